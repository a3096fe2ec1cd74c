// Package migrate reports what moving a cluster's Ingresses from
// ingress-nginx to rukou changes, before anything moves (rukou migrate).
//
// It finds what ingress-nginx serves (its IngressClasses, the Ingresses of
// those classes, its ConfigMap and the flags of its controller), judges each
// annotation, ConfigMap key and flag by translator/nginx's registries (the
// one place statuses are written), and translates the Ingresses with rukou's
// own translator, re-classed to rukou in memory, to find what rukou would not
// serve as written. It can write the Ingresses as they would be for rukou.
//
// It may import the translator facade, translator/nginx's registries, the
// Kubernetes API types and client-go, with which it only gets and lists
// (cluster.go): it never writes to a cluster. It decodes no manifests and knows
// no xDS: cmd/rukou decodes the manifests (watcher) and prints the report.
package migrate

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Objects are what a report reads, from manifests or from a cluster.
type Objects struct {
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	Services       []*corev1.Service
	Secrets        []*corev1.Secret
	ConfigMaps     []*corev1.ConfigMap
	// Workloads are the Deployments and DaemonSets that may run
	// ingress-nginx's controller.
	Workloads []Workload
}

// Workload is a Deployment or a DaemonSet, reduced to what names
// ingress-nginx's flags: its pod template.
type Workload struct {
	Kind, Namespace, Name string
	Pod                   corev1.PodSpec
}

// FromObjects sorts decoded manifests into Objects; kinds a report does not
// read are dropped.
func FromObjects(objs []runtime.Object) Objects {
	var o Objects
	for _, obj := range objs {
		switch v := obj.(type) {
		case *networkingv1.Ingress:
			o.Ingresses = append(o.Ingresses, v)
		case *networkingv1.IngressClass:
			o.IngressClasses = append(o.IngressClasses, v)
		case *corev1.Service:
			o.Services = append(o.Services, v)
		case *corev1.Secret:
			o.Secrets = append(o.Secrets, v)
		case *corev1.ConfigMap:
			o.ConfigMaps = append(o.ConfigMaps, v)
		case *appsv1.Deployment:
			o.Workloads = append(o.Workloads, Workload{Kind: "Deployment", Namespace: v.Namespace, Name: v.Name, Pod: v.Spec.Template.Spec})
		case *appsv1.DaemonSet:
			o.Workloads = append(o.Workloads, Workload{Kind: "DaemonSet", Namespace: v.Namespace, Name: v.Name, Pod: v.Spec.Template.Spec})
		}
	}
	return o
}

// Options say where ingress-nginx's settings come from when its workload
// does not say, and which class the Ingresses move to.
type Options struct {
	// ConfigMap (NAMESPACE/NAME) is ingress-nginx's ConfigMap, in place of
	// the one its --configmap flag names.
	ConfigMap string
	// Args are ingress-nginx's flags, in place of its workload's.
	Args []string
	// Admitted says the objects come from a cluster, where the API server's
	// admission has already given class-less Ingresses the default
	// IngressClass; manifests have not been through it yet.
	Admitted bool
	// IngressClass and ControllerName are rukou's IngressClass, which the
	// Ingresses move to (rukou serve's --ingress-class and
	// --controller-name).
	IngressClass, ControllerName string
}
