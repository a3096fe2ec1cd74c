// Package status writes what rukou decided back to the cluster: the address
// of each owned Ingress (status.loadBalancer.ingress) and Events that explain
// what was or was not served. Only the leader runs it.
//
// It may import client-go, the Kubernetes API types and the translator's diagnostics
// and Ingress statuses (packages ir and ingress); never the Envoy protos.
package status

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Addresses finds the addresses rukou publishes on its Ingresses.
type Addresses interface {
	Addresses(ctx context.Context) ([]networkingv1.IngressLoadBalancerIngress, error)
}

// Static publishes fixed addresses (--publish-status-address): IPs, or host
// names, comma-separated.
type Static []string

// Addresses returns the static addresses, IPs as IPs and the rest as host
// names, sorted.
func (s Static) Addresses(context.Context) ([]networkingv1.IngressLoadBalancerIngress, error) {
	var out []networkingv1.IngressLoadBalancerIngress
	for _, a := range s {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, lbIngress(a))
		}
	}
	return sortLB(out), nil
}

// PublishService publishes the addresses of the Service that exposes Envoy
// (--publish-service): its load balancer's ingress when it has one, else the
// addresses of the nodes that run the pods it selects (ExternalIP, else
// InternalIP), as a NodePort Service is reached.
//
// It reads the Service, the pods of its namespace and the nodes from
// informers of its own (Start), and computes the addresses again only after
// one of them changed: a status sync after each rebuild costs no API call.
type PublishService struct {
	Namespace, Name string
	// Changed, when set, is called after an input changed, so that status
	// follows a new node or load balancer address without waiting for the
	// next resync. It must not block.
	Changed func()

	factories []informers.SharedInformerFactory
	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	nodes     corelisters.NodeLister
	synced    []cache.InformerSynced

	mu      sync.Mutex
	dirty   bool
	last    []networkingv1.IngressLoadBalancerIngress
	lastErr error
}

// NewPublishService returns a PublishService for the Service namespace/name;
// Start starts its informers.
func NewPublishService(client kubernetes.Interface, namespace, name string) *PublishService {
	p := &PublishService{Namespace: namespace, Name: name, dirty: true}
	// One Service by name; the pods of its namespace, and the nodes, cut
	// down to what the addresses need as they enter the cache (a node
	// carries its image list, a pod its whole spec).
	svcs := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		}))
	pods := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace), informers.WithTransform(slimPod))
	nodes := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(slimNode))
	p.factories = []informers.SharedInformerFactory{svcs, pods, nodes}

	handler := cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { p.changed() },
		UpdateFunc: func(old, obj any) {
			if !sameInput(old, obj) {
				p.changed()
			}
		},
		DeleteFunc: func(any) { p.changed() },
	}
	for _, inf := range []cache.SharedIndexInformer{
		svcs.Core().V1().Services().Informer(),
		pods.Core().V1().Pods().Informer(),
		nodes.Core().V1().Nodes().Informer(),
	} {
		// AddEventHandler fails only on a stopped informer.
		_, _ = inf.AddEventHandler(handler)
		p.synced = append(p.synced, inf.HasSynced)
	}
	p.services = svcs.Core().V1().Services().Lister()
	p.pods = pods.Core().V1().Pods().Lister()
	p.nodes = nodes.Core().V1().Nodes().Lister()
	return p
}

// Start starts the informers; they run until ctx is done. It does not wait
// for them: Addresses fails until they have synced, and Changed is called
// once they have.
func (p *PublishService) Start(ctx context.Context) {
	for _, f := range p.factories {
		f.Start(ctx.Done())
	}
	go func() {
		if cache.WaitForCacheSync(ctx.Done(), p.synced...) {
			p.changed()
		}
	}()
}

// HasSynced reports whether every informer has listed once.
func (p *PublishService) HasSynced() bool {
	for _, s := range p.synced {
		if !s() {
			return false
		}
	}
	return true
}

func (p *PublishService) changed() {
	p.mu.Lock()
	p.dirty = true
	p.mu.Unlock()
	if p.Changed != nil {
		p.Changed()
	}
}

// Addresses returns the addresses, computed from the informers' caches
// again only when the Service, a pod or a node changed since last time.
func (p *PublishService) Addresses(context.Context) ([]networkingv1.IngressLoadBalancerIngress, error) {
	if !p.HasSynced() {
		return nil, fmt.Errorf("publish service %s/%s: the Service, pod and node caches have not synced yet", p.Namespace, p.Name)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dirty {
		// Cleared first: a change that lands while computing sets it again.
		p.dirty = false
		p.last, p.lastErr = p.compute()
	}
	return slices.Clone(p.last), p.lastErr
}

func (p *PublishService) compute() ([]networkingv1.IngressLoadBalancerIngress, error) {
	svc, err := p.services.Services(p.Namespace).Get(p.Name)
	if err != nil {
		return nil, fmt.Errorf("publish service %s/%s: %w", p.Namespace, p.Name, err)
	}
	if len(svc.Status.LoadBalancer.Ingress) > 0 {
		var out []networkingv1.IngressLoadBalancerIngress
		for _, in := range svc.Status.LoadBalancer.Ingress {
			out = append(out, networkingv1.IngressLoadBalancerIngress{IP: in.IP, Hostname: in.Hostname})
		}
		return sortLB(out), nil
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return []networkingv1.IngressLoadBalancerIngress{{Hostname: svc.Spec.ExternalName}}, nil
	}
	if len(svc.Spec.Selector) == 0 {
		return nil, fmt.Errorf("publish service %s/%s has no selector and no load balancer address", p.Namespace, p.Name)
	}
	pods, err := p.pods.Pods(p.Namespace).List(labels.SelectorFromSet(svc.Spec.Selector))
	if err != nil {
		return nil, fmt.Errorf("pods of publish service %s/%s: %w", p.Namespace, p.Name, err)
	}
	seen := map[string]bool{}
	var out []networkingv1.IngressLoadBalancerIngress
	for _, pod := range pods {
		if pod.Spec.NodeName == "" || seen[pod.Spec.NodeName] || pod.DeletionTimestamp != nil {
			continue
		}
		seen[pod.Spec.NodeName] = true
		node, err := p.nodes.Get(pod.Spec.NodeName)
		if err != nil {
			return nil, fmt.Errorf("node %s of publish service %s/%s: %w", pod.Spec.NodeName, p.Namespace, p.Name, err)
		}
		if addr := nodeAddress(node); addr != "" {
			out = append(out, lbIngress(addr))
		}
	}
	return sortLB(slices.CompactFunc(sortLB(out), equalLB)), nil
}

// sameInput reports whether an update left the object as it was but for
// its resourceVersion (a pod's status changed, say, which slimPod drops).
func sameInput(old, obj any) bool {
	a, aok := old.(runtime.Object)
	b, bok := obj.(runtime.Object)
	if !aok || !bok {
		return false
	}
	a, b = a.DeepCopyObject(), b.DeepCopyObject()
	for _, o := range []runtime.Object{a, b} {
		if m, err := meta.Accessor(o); err == nil {
			m.SetResourceVersion("")
			m.SetManagedFields(nil)
		}
	}
	return apiequality.Semantic.DeepEqual(a, b)
}

// slimPod keeps what the addresses read of a pod: its labels, node and
// deletion.
func slimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil // a DeletedFinalStateUnknown
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, ResourceVersion: pod.ResourceVersion,
			Labels: pod.Labels, DeletionTimestamp: pod.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{NodeName: pod.Spec.NodeName},
	}, nil
}

// slimNode keeps a node's name and addresses.
func slimNode(obj any) (any, error) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: node.Name, UID: node.UID, ResourceVersion: node.ResourceVersion},
		Status:     corev1.NodeStatus{Addresses: node.Status.Addresses},
	}, nil
}

func nodeAddress(node *corev1.Node) string {
	for _, want := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
		for _, a := range node.Status.Addresses {
			if a.Type == want && a.Address != "" {
				return a.Address
			}
		}
	}
	return ""
}

func lbIngress(addr string) networkingv1.IngressLoadBalancerIngress {
	if _, err := netip.ParseAddr(addr); err == nil {
		return networkingv1.IngressLoadBalancerIngress{IP: addr}
	}
	return networkingv1.IngressLoadBalancerIngress{Hostname: addr}
}

func sortLB(in []networkingv1.IngressLoadBalancerIngress) []networkingv1.IngressLoadBalancerIngress {
	slices.SortFunc(in, func(a, b networkingv1.IngressLoadBalancerIngress) int {
		return strings.Compare(a.IP+"|"+a.Hostname, b.IP+"|"+b.Hostname)
	})
	return in
}

func equalLB(a, b networkingv1.IngressLoadBalancerIngress) bool {
	return a.IP == b.IP && a.Hostname == b.Hostname
}

// sameAddresses compares the addresses only (not ports or errors), in order.
func sameAddresses(a, b []networkingv1.IngressLoadBalancerIngress) bool {
	return slices.EqualFunc(a, b, equalLB)
}
