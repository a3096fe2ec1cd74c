package ingress_test

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rukou/rukou/translator"
)

func TestBuildIngressClassOwnership(t *testing.T) {
	const legacy = "kubernetes.io/ingress.class"
	var (
		ours        = ingressClass("rukou", ourController, false)
		oursDefault = ingressClass("rukou", ourController, true)
		nginx       = ingressClass("nginx", otherController, false)
	)
	watchWithoutClass := func(o *translator.Options) { o.WatchIngressWithoutClass = true }

	cases := []struct {
		name    string
		classes []*networkingv1.IngressClass
		ingress []ingressOpt // changes to an Ingress named "web"
		opts    func(*translator.Options)
		ours    bool
	}{
		{
			name:    "class_name_of_our_controller_is_ours",
			classes: []*networkingv1.IngressClass{ours},
			ingress: []ingressOpt{className("rukou")},
			ours:    true,
		},
		{
			name:    "class_name_of_our_controller_under_any_class_name_is_ours",
			classes: []*networkingv1.IngressClass{ingressClass("edge", ourController, false)},
			ingress: []ingressOpt{className("edge")},
			ours:    true,
		},
		{
			name:    "class_name_follows_the_controller_name_option",
			classes: []*networkingv1.IngressClass{ingressClass("custom", "example.com/custom", false)},
			ingress: []ingressOpt{className("custom")},
			opts:    func(o *translator.Options) { o.ControllerName = "example.com/custom" },
			ours:    true,
		},
		{
			name:    "class_of_another_controller_is_ignored",
			classes: []*networkingv1.IngressClass{ours, nginx},
			ingress: []ingressOpt{className("nginx")},
		},
		{
			name:    "class_of_another_controller_is_ignored_even_when_watching_ingresses_without_class",
			classes: []*networkingv1.IngressClass{oursDefault, ingressClass("nginx", otherController, true)},
			ingress: []ingressOpt{className("nginx")},
			opts:    watchWithoutClass,
		},
		{
			name:    "class_name_that_names_no_ingress_class_is_ignored",
			classes: []*networkingv1.IngressClass{oursDefault},
			ingress: []ingressOpt{className("missing")},
			opts:    watchWithoutClass,
		},
		{
			name:    "class_name_wins_over_the_legacy_annotation",
			classes: []*networkingv1.IngressClass{ours, nginx},
			ingress: []ingressOpt{className("nginx"), annotate(legacy, "rukou")},
		},
		{
			name:    "legacy_annotation_equal_to_our_class_is_ours",
			classes: []*networkingv1.IngressClass{ours},
			ingress: []ingressOpt{className(""), annotate(legacy, "rukou")},
			ours:    true,
		},
		{
			name:    "legacy_annotation_follows_the_ingress_class_option",
			classes: []*networkingv1.IngressClass{ours},
			ingress: []ingressOpt{className(""), annotate(legacy, "public")},
			opts:    func(o *translator.Options) { o.IngressClass = "public" },
			ours:    true,
		},
		{
			name:    "legacy_annotation_of_another_class_is_ignored",
			classes: []*networkingv1.IngressClass{ours},
			ingress: []ingressOpt{className(""), annotate(legacy, "nginx")},
		},
		{
			name:    "legacy_annotation_of_another_class_is_ignored_even_with_our_default_class",
			classes: []*networkingv1.IngressClass{oursDefault},
			ingress: []ingressOpt{className(""), annotate(legacy, "nginx")},
			opts:    watchWithoutClass,
		},
		{
			name:    "no_class_with_our_default_ingress_class_is_ours",
			classes: []*networkingv1.IngressClass{oursDefault},
			ingress: []ingressOpt{className("")},
			ours:    true,
		},
		{
			name:    "no_class_with_the_default_ingress_class_of_another_controller_is_ignored",
			classes: []*networkingv1.IngressClass{ours, ingressClass("nginx", otherController, true)},
			ingress: []ingressOpt{className("")},
		},
		{
			name:    "no_class_when_watching_ingresses_without_class_is_ours",
			classes: []*networkingv1.IngressClass{ours},
			ingress: []ingressOpt{className("")},
			opts:    watchWithoutClass,
			ours:    true,
		},
		{
			name:    "no_class_and_nothing_that_claims_it_is_ignored",
			classes: []*networkingv1.IngressClass{ours},
			ingress: []ingressOpt{className("")},
		},
		{
			// An Ingress that is not ours is none of our business: no
			// routes, and no diagnostics either, however broken it is.
			name:    "ingress_that_is_not_ours_gets_no_diagnostics",
			classes: []*networkingv1.IngressClass{ours, nginx},
			ingress: []ingressOpt{className("nginx"), rule("Bad_Host", path(prefix, "nope", svc("missing", 80)))},
		},
	}

	var build []buildCase
	for _, c := range cases {
		objs := []runtime.Object{services("web")[0]}
		for _, class := range c.classes {
			objs = append(objs, class)
		}
		opts := append([]ingressOpt{rule("example.com", path(prefix, "/", svc("web", 80)))}, c.ingress...)
		bc := buildCase{name: c.name, objs: append(objs, ing("web", opts...)), opts: c.opts}
		if c.ours {
			bc.model = []string{"example.com", "  Prefix / -> default/web/80 (default/web)"}
		}
		build = append(build, bc)
	}
	runBuildCases(t, build)
}
