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

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
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
type PublishService struct {
	Client          kubernetes.Interface
	Namespace, Name string
}

// Addresses looks the Service, its pods and their nodes up.
func (p *PublishService) Addresses(ctx context.Context) ([]networkingv1.IngressLoadBalancerIngress, error) {
	svc, err := p.Client.CoreV1().Services(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
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
	pods, err := p.Client.CoreV1().Pods(p.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String(),
	})
	if err != nil {
		return nil, fmt.Errorf("pods of publish service %s/%s: %w", p.Namespace, p.Name, err)
	}
	seen := map[string]bool{}
	var out []networkingv1.IngressLoadBalancerIngress
	for _, pod := range pods.Items {
		if pod.Spec.NodeName == "" || seen[pod.Spec.NodeName] || pod.DeletionTimestamp != nil {
			continue
		}
		seen[pod.Spec.NodeName] = true
		node, err := p.Client.CoreV1().Nodes().Get(ctx, pod.Spec.NodeName, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("node %s of publish service %s/%s: %w", pod.Spec.NodeName, p.Namespace, p.Name, err)
		}
		if addr := nodeAddress(node); addr != "" {
			out = append(out, lbIngress(addr))
		}
	}
	return sortLB(slices.CompactFunc(sortLB(out), equalLB)), nil
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
