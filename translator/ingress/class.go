package ingress

import (
	networkingv1 "k8s.io/api/networking/v1"
)

const (
	// annotationIngressClass is the legacy way of naming an Ingress's class.
	annotationIngressClass = "kubernetes.io/ingress.class"
	// annotationDefaultClass marks the IngressClass used by Ingresses that
	// name none.
	annotationDefaultClass = "ingressclass.kubernetes.io/is-default-class"
)

// owns reports whether an Ingress belongs to this controller, following the
// order DESIGN.md gives: spec.ingressClassName, then the legacy annotation,
// then the default class or --watch-ingress-without-class.
func owns(ing *networkingv1.Ingress, classes map[string]*networkingv1.IngressClass, opts Options) bool {
	if name := ing.Spec.IngressClassName; name != nil {
		class, ok := classes[*name]
		return ok && class.Spec.Controller == opts.ControllerName
	}
	if legacy, ok := ing.Annotations[annotationIngressClass]; ok {
		return legacy == opts.IngressClass
	}
	if opts.WatchIngressWithoutClass {
		return true
	}
	for _, class := range classes {
		if class.Spec.Controller == opts.ControllerName && class.Annotations[annotationDefaultClass] == "true" {
			return true
		}
	}
	return false
}
