package watcher_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/rukou/rukou/watcher"
)

func TestKube(t *testing.T) {
	svc := svcObject("shop", "web")
	svc.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	svc.Annotations = map[string]string{
		corev1.LastAppliedConfigAnnotation: `{"a": "large copy of the object"}`,
		"keep":                             "me",
	}
	client := fake.NewClientset(
		svc,
		&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}},
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "rukou"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "tls"}, Type: corev1.SecretTypeTLS},
	)
	store := watcher.NewStore()
	k := &watcher.Kube{Client: client, Store: store, Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := k.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}

	// Start returns with the caches synced: everything is in the store.
	in := store.Input()
	equalKeys(t, "after Start", inputKeys(in), []string{"Ingress shop/web", "IngressClass rukou", "Service shop/web", "Secret shop/tls"})
	if got := in.Services[0]; got.ManagedFields != nil || got.Annotations[corev1.LastAppliedConfigAnnotation] != "" || got.Annotations["keep"] != "me" {
		t.Errorf("Service not stripped of managed fields and last-applied alone: %+v", got.ObjectMeta)
	}

	// Changes reach the store.
	services := client.CoreV1().Services("shop")
	if _, err := services.Create(ctx, svcObject("shop", "api"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := services.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"Ingress shop/web", "IngressClass rukou", "Service shop/api", "Secret shop/tls"}
	timeout := time.After(patience)
	for got := inputKeys(store.Input()); !slices.Equal(got, want); got = inputKeys(store.Input()) {
		// The store signals every change it takes.
		select {
		case <-store.Changes():
		case <-timeout:
			t.Fatalf("store after a create and a delete: %q, want %q", got, want)
		}
	}
}

// TestKubeWatchesConfigMapNamespaces: the ConfigMaps of the namespaces in
// ConfigMapNamespaces are listed and watched, and only those, whatever
// namespace the other kinds are watched in, and their changes reach the
// store.
func TestKubeWatchesConfigMapNamespaces(t *testing.T) {
	cm := func(ns, name, hsts string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"hsts": hsts}}
	}
	client := fake.NewClientset(cm("rukou-system", "rukou", "true"), cm("rukou-system", "headers", "true"), cm("shop", "rukou", "true"))
	var asked []string
	client.PrependReactor("list", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		l := a.(k8stesting.ListAction)
		asked = append(asked, l.GetNamespace()+" "+l.GetListRestrictions().Fields.String())
		return false, nil, nil
	})
	store := watcher.NewStore()
	k := &watcher.Kube{Client: client, Namespace: "shop", ConfigMapNamespaces: []string{"rukou-system"}, Store: store, Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := k.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	equalKeys(t, "lists of ConfigMaps", asked, []string{"rukou-system "})
	equalKeys(t, "after Start", inputKeys(store.Input()), []string{"ConfigMap rukou-system/headers", "ConfigMap rukou-system/rukou"})

	if _, err := client.CoreV1().ConfigMaps("rukou-system").Update(ctx, cm("rukou-system", "rukou", "false"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(patience)
	for in := store.Input(); in.ConfigMaps[1].Data["hsts"] != "false"; in = store.Input() {
		select {
		case <-store.Changes():
		case <-timeout:
			t.Fatal("the ConfigMap's change did not reach the store")
		}
	}
}

// TestKubeWatchesTheDefaultsOutsideTheNamespace: with --watch-namespace,
// the Secret of --default-ssl-certificate and the Service of
// --default-backend-service, with its EndpointSlices, are still watched
// when they live elsewhere: each by name (or by its Service's label) in
// its own namespace, never the whole namespace.
func TestKubeWatchesTheDefaultsOutsideTheNamespace(t *testing.T) {
	client := fake.NewClientset(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress", Name: "default-tls"}, Type: corev1.SecretTypeTLS},
		svcObject("ingress", "fallback"),
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress", Name: "fallback-x", Labels: map[string]string{discoveryv1.LabelServiceName: "fallback"}}},
	)
	var asked []string
	for _, resource := range []string{"secrets", "services", "endpointslices"} {
		client.PrependReactor("list", resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
			r := a.(k8stesting.ListAction).GetListRestrictions()
			asked = append(asked, fmt.Sprintf("%s %s %s %s", resource, a.GetNamespace(), r.Fields, r.Labels))
			return false, nil, nil
		})
	}
	store := watcher.NewStore()
	k := &watcher.Kube{
		Client: client, Namespace: "shop", Store: store, Log: slog.New(slog.DiscardHandler),
		DefaultSSLCertificate: "ingress/default-tls", DefaultBackendService: "ingress/fallback",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := k.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	slices.Sort(asked)
	equalKeys(t, "lists", asked, []string{
		"endpointslices ingress  kubernetes.io/service-name=fallback",
		"endpointslices shop  ",
		"secrets ingress metadata.name=default-tls ",
		"secrets shop type=Opaque ", "secrets shop type=kubernetes.io/tls ",
		"services ingress metadata.name=fallback ",
		"services shop  ",
	})
	equalKeys(t, "after Start", inputKeys(store.Input()), []string{"Service ingress/fallback", "EndpointSlice ingress/fallback-x", "Secret ingress/default-tls"})
}
