package migrate

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// tlsSecrets selects the Secrets that can hold an Ingress's certificate;
// no other Secret is read.
const tlsSecrets = "type=" + string(corev1.SecretTypeTLS)

// Read lists what a report needs from a cluster, with get and list only
// (docs/migrating.md lists the RBAC): IngressClasses, Ingresses,
// Services, TLS Secrets, Deployments and DaemonSets (unless opts.Args
// gives ingress-nginx's flags), then gets ingress-nginx's ConfigMap, which
// its flags (or opts.ConfigMap) name.
func Read(ctx context.Context, client kubernetes.Interface, opts Options) (Objects, error) {
	var o Objects
	lo := metav1.ListOptions{}
	classes, err := client.NetworkingV1().IngressClasses().List(ctx, lo)
	if err != nil {
		return o, fmt.Errorf("listing IngressClasses: %w", err)
	}
	for i := range classes.Items {
		o.IngressClasses = append(o.IngressClasses, &classes.Items[i])
	}
	ings, err := client.NetworkingV1().Ingresses("").List(ctx, lo)
	if err != nil {
		return o, fmt.Errorf("listing Ingresses: %w", err)
	}
	for i := range ings.Items {
		o.Ingresses = append(o.Ingresses, &ings.Items[i])
	}
	svcs, err := client.CoreV1().Services("").List(ctx, lo)
	if err != nil {
		return o, fmt.Errorf("listing Services: %w", err)
	}
	for i := range svcs.Items {
		o.Services = append(o.Services, &svcs.Items[i])
	}
	secrets, err := client.CoreV1().Secrets("").List(ctx, metav1.ListOptions{FieldSelector: tlsSecrets})
	if err != nil {
		return o, fmt.Errorf("listing Secrets of type %s: %w", corev1.SecretTypeTLS, err)
	}
	for i := range secrets.Items {
		o.Secrets = append(o.Secrets, &secrets.Items[i])
	}
	// Given ingress-nginx's flags, the report needs no workload: a user
	// who may not list them can still run it.
	if len(opts.Args) == 0 {
		if o.Workloads, err = readWorkloads(ctx, client); err != nil {
			return o, err
		}
	}
	cm, err := readConfigMap(ctx, client, newController(o.Workloads, opts, func(string, ...any) {}).ConfigMap)
	if cm != nil {
		o.ConfigMaps = []*corev1.ConfigMap{cm}
	}
	return o, err
}

// readWorkloads lists the Deployments and DaemonSets of every namespace.
func readWorkloads(ctx context.Context, client kubernetes.Interface) ([]Workload, error) {
	var out []Workload
	deps, err := client.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Deployments: %w", err)
	}
	for _, d := range deps.Items {
		out = append(out, Workload{Kind: "Deployment", Namespace: d.Namespace, Name: d.Name, Pod: d.Spec.Template.Spec})
	}
	dss, err := client.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing DaemonSets: %w", err)
	}
	for _, d := range dss.Items {
		out = append(out, Workload{Kind: "DaemonSet", Namespace: d.Namespace, Name: d.Name, Pod: d.Spec.Template.Spec})
	}
	return out, nil
}

// readConfigMap gets the ConfigMap NAMESPACE/NAME; a missing one is no
// error (the report says so and every key has its default).
func readConfigMap(ctx context.Context, client kubernetes.Interface, name string) (*corev1.ConfigMap, error) {
	ns, n, ok := strings.Cut(name, "/")
	if !ok {
		return nil, nil
	}
	cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, n, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("getting ConfigMap %s: %w", name, err)
	}
	return cm, nil
}
