package ingress_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rukou/rukou/translator"
)

// TestReadsAreAllThatMatters: in every golden case, a Service (with its
// EndpointSlices) or Secret whose presence changes the model is named by
// the Reads of the model built with it and of the one built without it,
// and an Ingress whose presence changes the model is owned in both:
// rukou serve rebuilds when it changes, comes or goes. Adding a Service,
// EndpointSlice and Secret that nothing names changes nothing and is not
// in the Reads.
func TestReadsAreAllThatMatters(t *testing.T) {
	files, err := filepath.Glob("../testdata/in/*.yaml")
	if err != nil || len(files) < 10 {
		t.Fatalf("inputs %v: %v", files, err)
	}
	var mattered, unread int
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			in, opts := goldenInput(t, file)
			want := printModel(t, in, opts)
			reads := mustTranslate(t, in, opts).Model.Reads
			check := func(kind string, name types.NamespacedName, less translator.Input, read func(translator.Reads) bool) {
				if bytes.Equal(printModel(t, less, opts), want) {
					if !read(reads) {
						unread++
					}
					return
				}
				mattered++
				if !read(reads) {
					t.Errorf("%s %s changes the model, but the model's Reads do not name it", kind, name)
				}
				if !read(mustTranslate(t, less, opts).Model.Reads) {
					t.Errorf("%s %s changes the model, but the Reads of the model without it do not name it", kind, name)
				}
			}
			for i, svc := range in.Services {
				name := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
				less := in
				less.Services = slices.Delete(slices.Clone(in.Services), i, i+1)
				less.EndpointSlices = slices.DeleteFunc(slices.Clone(in.EndpointSlices), func(es *discoveryv1.EndpointSlice) bool {
					return es.Namespace == svc.Namespace && es.Labels[discoveryv1.LabelServiceName] == svc.Name
				})
				check("Service", name, less, func(r translator.Reads) bool { _, ok := r.Services[name]; return ok })
			}
			for i, ing := range in.Ingresses {
				name := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
				less := in
				less.Ingresses = slices.Delete(slices.Clone(in.Ingresses), i, i+1)
				check("Ingress", name, less, func(r translator.Reads) bool { return r.Owns(ing) })
			}
			for i, s := range in.Secrets {
				name := types.NamespacedName{Namespace: s.Namespace, Name: s.Name}
				less := in
				less.Secrets = slices.Delete(slices.Clone(in.Secrets), i, i+1)
				check("Secret", name, less, func(r translator.Reads) bool { _, ok := r.Secrets[name]; return ok })
			}

			more := in
			more.Services = append(slices.Clip(in.Services), &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "elsewhere", Name: "unnamed"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}})
			more.EndpointSlices = append(slices.Clip(in.EndpointSlices), &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "elsewhere", Name: "unnamed-1",
				Labels: map[string]string{discoveryv1.LabelServiceName: "unnamed"}}, AddressType: discoveryv1.AddressTypeIPv4,
				Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}}})
			more.Secrets = append(slices.Clip(in.Secrets), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "elsewhere", Name: "unnamed"}, Type: corev1.SecretTypeTLS})
			if got := printModel(t, more, opts); !bytes.Equal(got, want) {
				t.Errorf("a Service, EndpointSlice and Secret that nothing names changed the model")
			}
			moreReads := mustTranslate(t, more, opts).Model.Reads
			if _, ok := moreReads.Services[types.NamespacedName{Namespace: "elsewhere", Name: "unnamed"}]; ok {
				t.Errorf("Reads name a Service that nothing names")
			}
			if _, ok := moreReads.Secrets[types.NamespacedName{Namespace: "elsewhere", Name: "unnamed"}]; ok {
				t.Errorf("Reads name a Secret that nothing names")
			}
		})
	}
	if mattered < 100 {
		t.Errorf("only %d Services, Secrets and Ingresses of the golden cases change their model: too few to test Reads", mattered)
	}
	if unread < 5 {
		t.Errorf("only %d Services, Secrets and Ingresses of the golden cases are not read: too few to test Reads", unread)
	}
	t.Logf("%d Services, Secrets and Ingresses of the golden cases change their model; %d others are not read", mattered, unread)
}

// TestReadsNameWhatIsLookedUp: the Services of backends, found or not, the
// TLS Secrets, and the Secrets of annotations are in Reads.
func TestReadsNameWhatIsLookedUp(t *testing.T) {
	for _, c := range []struct {
		file              string
		services, secrets []string
	}{
		{"missing_service.yaml", []string{"default/gone", "default/web"}, nil},
		{"tls.yaml", nil, []string{"default/shop-tls", "default/blog-tls"}},
		{"auth_tls.yaml", nil, nil},
		{"custom_http_errors.yaml", []string{"default/default-backend", "default/error-pages"}, nil},
	} {
		t.Run(c.file, func(t *testing.T) {
			in, opts := goldenInput(t, filepath.Join("../testdata/in", c.file))
			reads := mustTranslate(t, in, opts).Model.Reads
			for _, want := range c.services {
				if _, ok := reads.Services[nameOf(want)]; !ok {
					t.Errorf("Reads.Services lack %s: %v", want, reads.Services)
				}
			}
			for _, want := range c.secrets {
				if _, ok := reads.Secrets[nameOf(want)]; !ok {
					t.Errorf("Reads.Secrets lack %s: %v", want, reads.Secrets)
				}
			}
			if c.file == "auth_tls.yaml" && len(reads.Secrets) == 0 {
				t.Errorf("Reads name no Secret of auth-tls-secret")
			}
		})
	}
}

func nameOf(s string) types.NamespacedName {
	ns, n, _ := bytes.Cut([]byte(s), []byte("/"))
	return types.NamespacedName{Namespace: string(ns), Name: string(n)}
}

func mustTranslate(t *testing.T, in translator.Input, opts translator.Options) *translator.Result {
	t.Helper()
	res, err := translator.Translate(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
