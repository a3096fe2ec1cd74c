package watcher_test

import (
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/rukou/rukou/watcher"
)

const (
	ingressDoc = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
spec:
  ingressClassName: rukou
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
`
	ingressClassDoc = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: rukou
spec:
  controller: rukou.io/ingress-controller
`
	endpointSliceDoc = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
ports:
- name: http
  port: 8080
endpoints:
- addresses: ["10.0.0.1"]
  conditions:
    ready: true
`
	secretDoc = `apiVersion: v1
kind: Secret
metadata:
  name: tls
type: kubernetes.io/tls
data:
  tls.crt: Y2VydA==
  tls.key: a2V5
`
	deploymentDoc = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: this is not a number, and nobody looks
`
)

func TestDecode(t *testing.T) {
	cases := []struct {
		name string
		file string
		data string
		want []string
	}{
		{
			name: "documents_separated_by_dashes",
			file: "app.yaml",
			data: joinDocs(ingressDoc, ingressClassDoc, serviceDoc("web", 80), endpointSliceDoc, secretDoc),
			want: []string{"Ingress shop/web", "IngressClass rukou", "Service default/web", "EndpointSlice default/web-1", "Secret default/tls"},
		},
		{
			name: "leading_separator_comments_and_empty_documents_are_skipped",
			file: "app.yaml",
			data: "---\n# the web Service\n" + serviceDoc("a", 80) + "---\n---\n# nothing here\n--- # the next one\n" + serviceDoc("b", 80) + "---\n",
			want: []string{"Service default/a", "Service default/b"},
		},
		{
			name: "crlf_line_endings",
			file: "app.yaml",
			data: strings.ReplaceAll(joinDocs(serviceDoc("a", 80), serviceDoc("b", 80)), "\n", "\r\n"),
			want: []string{"Service default/a", "Service default/b"},
		},
		{
			name: "json_file",
			file: "svc.json",
			data: `{"apiVersion": "v1", "kind": "Service",
 "metadata": {"name": "api", "namespace": "shop"},
 "spec": {"ports": [{"port": 80}]}}`,
			want: []string{"Service shop/api"},
		},
		{
			name: "json_list",
			file: "list.json",
			data: `{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}},
  {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "rukou"}, "spec": {"controller": "x"}}
]}`,
			want: []string{"Service default/a", "IngressClass rukou"},
		},
		{
			name: "yaml_list_items_are_read_and_unwatched_items_skipped",
			file: "list.yaml",
			data: "apiVersion: v1\nkind: List\nitems:\n" +
				"- apiVersion: v1\n  kind: Service\n  metadata: {name: a, namespace: shop}\n" +
				"- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: a}\n" +
				"- apiVersion: v1\n  kind: Service\n  metadata: {name: b}\n",
			want: []string{"Service shop/a", "Service default/b"},
		},
		{
			name: "empty_list",
			file: "list.yaml",
			data: "apiVersion: v1\nkind: List\nitems: []\n",
			want: []string{},
		},
		{
			name: "unwatched_kinds_are_skipped_without_being_read",
			file: "app.yaml",
			data: joinDocs(deploymentDoc, serviceDoc("web", 80),
				"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: conf\n",
				"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"),
			want: []string{"Service default/web"},
		},
		{
			// Any may be the controller's (--configmap); the frontend picks.
			name: "config_maps_are_read",
			file: "app.yaml",
			data: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conf\ndata:\n  hsts: \"false\"\n",
			want: []string{"ConfigMap default/conf"},
		},
		{
			name: "missing_namespace_is_default_but_not_for_ingress_class",
			file: "app.yaml",
			data: joinDocs(ingressClassDoc, endpointSliceDoc, strings.Replace(ingressDoc, "  namespace: shop\n", "", 1)),
			want: []string{"IngressClass rukou", "EndpointSlice default/web-1", "Ingress default/web"},
		},
		{
			name: "empty_file",
			file: "empty.yaml",
			data: "",
			want: []string{},
		},
		{
			name: "only_comments",
			file: "notes.yaml",
			data: "# nothing to apply yet\n",
			want: []string{},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs, err := watcher.Decode(c.file, []byte(c.data))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			equalKeys(t, "objects", keyStrings(objs), c.want)
		})
	}
}

// TestDecodeReadsFields checks that documents become typed objects with
// their fields, not just names.
func TestDecodeReadsFields(t *testing.T) {
	objs, err := watcher.Decode("app.yaml", []byte(joinDocs(ingressDoc, endpointSliceDoc, secretDoc)))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 {
		t.Fatalf("got %d objects, want 3", len(objs))
	}
	ing, ok := objs[0].(*networkingv1.Ingress)
	if !ok {
		t.Fatalf("first object is a %T, want an Ingress", objs[0])
	}
	if got := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Number; ing.Spec.Rules[0].Host != "shop.example.com" || got != 80 {
		t.Errorf("Ingress rule: host %q port %d", ing.Spec.Rules[0].Host, got)
	}
	es, ok := objs[1].(*discoveryv1.EndpointSlice)
	if !ok {
		t.Fatalf("second object is a %T, want an EndpointSlice", objs[1])
	}
	if c := es.Endpoints[0].Conditions; es.AddressType != discoveryv1.AddressTypeIPv4 || c.Ready == nil || !*c.Ready || *es.Ports[0].Port != 8080 {
		t.Errorf("EndpointSlice not read as written: %+v", es)
	}
	secret, ok := objs[2].(*corev1.Secret)
	if !ok {
		t.Fatalf("third object is a %T, want a Secret", objs[2])
	}
	if string(secret.Data["tls.crt"]) != "cert" || secret.Type != corev1.SecretTypeTLS {
		t.Errorf("Secret: type %q, tls.crt %q", secret.Type, secret.Data["tls.crt"])
	}
}

func TestDecodeFoldsSecretStringDataIntoData(t *testing.T) {
	// As the API server does: stringData wins over data for the same key.
	objs, err := watcher.Decode("secret.yaml", []byte(secretDoc+"stringData:\n  tls.key: plain key\n  extra: more\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := objs[0].(*corev1.Secret)
	want := map[string]string{"tls.crt": "cert", "tls.key": "plain key", "extra": "more"}
	if len(s.Data) != len(want) || s.StringData != nil {
		t.Errorf("Secret data %q, stringData %q; want data %q only", s.Data, s.StringData, want)
	}
	for k, v := range want {
		if string(s.Data[k]) != v {
			t.Errorf("data[%q] = %q, want %q", k, s.Data[k], v)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	// threeDocs puts the first line of bad on file line 17, in the third
	// document.
	threeDocs := func(bad string) string {
		return joinDocs(
			"# two Services and an Ingress\n"+serviceDoc("a", 80),                // lines 1-8
			"apiVersion: v1\nkind: Service\nmetadata:\n  name: b\n",              // lines 10-13
			"apiVersion: networking.k8s.io/v1\nkind: Ingress\n"+bad+"spec: {}\n", // lines 15-
		)
	}
	// second puts doc after one Service: it starts on line 9.
	second := func(doc string) string { return joinDocs(serviceDoc("a", 80), doc) }
	cases := []struct {
		name string
		data string
		line int
		msg  string
	}{
		{
			name: "tab_indentation_in_the_third_document",
			data: threeDocs("\tmetadata:\n  name: c\n"),
			line: 17,
			msg:  "tab character",
		},
		{
			name: "mapping_value_in_the_wrong_place_in_the_third_document",
			data: threeDocs("metadata: name: c\n"),
			line: 17,
			msg:  "mapping values are not allowed",
		},
		{
			name: "error_on_the_first_line_of_a_document",
			data: second("kind: Service: x\n"),
			line: 9,
			msg:  "mapping values are not allowed",
		},
		{
			name: "missing_kind_is_reported_at_its_document",
			data: second("apiVersion: v1\nmetadata:\n  name: b\n"),
			line: 9,
			msg:  "no apiVersion or kind",
		},
		{
			name: "missing_api_version_is_reported_at_its_document",
			data: second("kind: Service\nmetadata:\n  name: b\n"),
			line: 9,
			msg:  "no apiVersion or kind",
		},
		{
			name: "missing_name",
			data: "apiVersion: v1\nkind: Service\nmetadata:\n  namespace: shop\n",
			line: 1,
			msg:  "Service has no metadata.name",
		},
		{
			name: "field_of_the_wrong_type_is_reported_at_its_document",
			data: second("apiVersion: v1\nkind: Service\nmetadata:\n  name: b\nspec:\n  ports:\n  - port: http\n"),
			line: 9,
			msg:  "Service: ",
		},
		{
			name: "document_that_is_not_an_object",
			data: second("- just\n- a list\n"),
			line: 9,
			msg:  "not a Kubernetes object",
		},
		{
			name: "older_version_of_a_watched_kind_is_refused",
			data: second("apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata:\n  name: old\n"),
			line: 9,
			msg:  "networking.k8s.io/v1beta1 Ingress is not supported",
		},
		{
			name: "bad_list_item_names_its_index",
			data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- kind: Service\n",
			line: 1,
			msg:  "list item 1: object has no apiVersion or kind",
		},
		{
			name: "json_missing_its_closing_brace",
			data: "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Service\",\n  \"metadata\": {\"name\": \"a\"\n",
			line: 4,
			msg:  "did not find expected ',' or '}'",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs, err := watcher.Decode("app.yaml", []byte(c.data))
			if err == nil {
				t.Fatalf("Decode returned %d objects and no error", len(objs))
			}
			var me *watcher.ManifestError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is a %T, want a *watcher.ManifestError", err, err)
			}
			if me.File != "app.yaml" || me.Line != c.line {
				t.Errorf("error at %s:%d, want app.yaml:%d (%v)", me.File, me.Line, c.line, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not say %q", err, c.msg)
			}
			if !strings.HasPrefix(err.Error(), "app.yaml:") || errors.Unwrap(err) == nil {
				t.Errorf("error %q does not start with the file, or does not wrap its cause", err)
			}
			if objs != nil {
				t.Errorf("Decode returned objects with its error: %v", keyStrings(objs))
			}
		})
	}
}

// TestDecodeErrorLineOfBadIndentation pins down a quirk of the YAML parser
// rukou uses (go.yaml.in/yaml/v2, through sigs.k8s.io/yaml, as kubectl
// does): errors found while parsing a block mapping, such as a key indented
// one space too little, are reported at the line before the offending one.
// Scanner errors (tabs, stray ":") are exact; see TestDecodeErrors.
func TestDecodeErrorLineOfBadIndentation(t *testing.T) {
	data := joinDocs(
		serviceDoc("a", 80),
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: b\n",
		"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: c\n namespace: x\n", // line 18
	)
	_, err := watcher.Decode("app.yaml", []byte(data))
	var me *watcher.ManifestError
	if !errors.As(err, &me) {
		t.Fatalf("Decode: %v, want a *watcher.ManifestError", err)
	}
	if me.Line != 17 && me.Line != 18 {
		t.Errorf("error at line %d, want 18 (or 17, the line before, as the parser counts): %v", me.Line, err)
	}
}

func TestIsManifest(t *testing.T) {
	for name, want := range map[string]bool{
		"app.yaml":          true,
		"app.yml":           true,
		"app.json":          true,
		"APP.YAML":          true,
		"dir/app.yaml":      true,
		".app.yaml":         false,
		"dir/.app.yaml.swp": false,
		"app.yaml~":         false,
		"app.yaml.bak":      false,
		"README.md":         false,
		"kustomization":     false,
	} {
		if got := watcher.IsManifest(name); got != want {
			t.Errorf("IsManifest(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestDecodeExtraKinds: a Deployment is skipped unless the caller asks for
// its kind (rukou migrate reads ingress-nginx's), and then gets the default
// namespace as the watched kinds do.
func TestDecodeExtraKinds(t *testing.T) {
	const doc = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ingress-nginx-controller
spec:
  template:
    spec:
      containers:
      - name: controller
        args: ["/nginx-ingress-controller", "--configmap=ingress-nginx/ingress-nginx-controller"]
---
` + ingressDoc
	objs, err := watcher.Decode("all.yaml", []byte(doc))
	if err != nil || len(objs) != 1 {
		t.Fatalf("without extra kinds: %d objects, %v; want the Ingress only", len(objs), err)
	}
	objs, err = watcher.Decode("all.yaml", []byte(doc), schema.GroupKind{Group: "apps", Kind: "Deployment"})
	if err != nil || len(objs) != 2 {
		t.Fatalf("with Deployment: %d objects, %v; want 2", len(objs), err)
	}
	d, ok := objs[0].(*appsv1.Deployment)
	if !ok || d.Namespace != "default" || d.Spec.Template.Spec.Containers[0].Args[1] != "--configmap=ingress-nginx/ingress-nginx-controller" {
		t.Errorf("Deployment decoded as %#v", objs[0])
	}
}
