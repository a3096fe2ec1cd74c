package e2e

import (
	"fmt"
	"net/http"
	"testing"
)

// TestAnnotationSSLRedirect: a TLS host redirects plain HTTP with 308
// unless ssl-redirect is "false"; force-ssl-redirect redirects a host that
// has no certificate too. The Ingresses are
// translator/testdata/in/e2e_ssl_redirect.yaml.
func TestAnnotationSSLRedirect(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_ssl_redirect.yaml", backend(t, "secure"), backend(t, "relaxed"), backend(t, "forced"))

	for _, c := range []struct {
		name, host string
		status     int
		backend    string
	}{
		{"tls_host_redirects_by_default", "secure.test", http.StatusPermanentRedirect, ""},
		{"ssl_redirect_false_serves_plain_http", "relaxed.test", http.StatusOK, "relaxed"},
		{"force_ssl_redirect_without_tls_redirects", "forced.test", http.StatusPermanentRedirect, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.await(t, call{host: c.host, path: "/a/b?c=d"}, c.status, c.backend)
			if c.status == http.StatusPermanentRedirect {
				want := fmt.Sprintf("https://%s:%d/a/b?c=d", c.host, s.rukou.HTTPSPort)
				if got := r.header.Get("Location"); got != want {
					t.Errorf("Location = %q, want %q", got, want)
				}
			}
		})
	}
	t.Run("tls_host_is_served_over_https_with_hsts", func(t *testing.T) {
		r := s.await(t, call{host: "secure.test", path: "/", https: true}, http.StatusOK, "secure")
		if got, want := r.header.Get("Strict-Transport-Security"), "max-age=31536000; includeSubDomains"; got != want {
			t.Errorf("HTTPS answer: Strict-Transport-Security %q, want %q (ingress-nginx's default)", got, want)
		}
		if r := s.must(t, call{host: "relaxed.test", path: "/"}); r.header.Get("Strict-Transport-Security") != "" {
			t.Errorf("plain HTTP answer has Strict-Transport-Security %q, want none", r.header.Get("Strict-Transport-Security"))
		}
	})
	expectNoRejection(t, s.envoy)
}

// TestAnnotationRedirects: permanent-redirect answers 301 (or its code)
// with the URL as given, temporal-redirect 302 (or its code), and the
// temporal one wins when both are set. The request's path and query are
// not carried over, unless the URL ends in nginx's $request_uri. A relative
// URL is made absolute with the request's host, without the port the Host
// header names (ingress-nginx's absolute_redirect on, port_in_redirect
// off), with it under use-port-in-redirects, and goes as written under
// relative-redirects. The Ingresses are
// translator/testdata/in/e2e_redirects.yaml.
func TestAnnotationRedirects(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_redirects.yaml", backend(t, "unused"))

	for _, c := range []struct {
		name, host string
		status     int
		location   string
	}{
		{"permanent_redirect_answers_301", "permanent.test", http.StatusMovedPermanently, "https://new.example.org/landing"},
		{"permanent_redirect_code_308", "permanent308.test", http.StatusPermanentRedirect, "http://new.example.org:8080/x?from=old"},
		{"temporal_redirect_answers_302", "temporal.test", http.StatusFound, "https://maintenance.example.org/"},
		{"temporal_wins_with_its_code", "both.test", http.StatusTemporaryRedirect, "https://temporal.example.org/"},
		{"invalid_code_falls_back_to_301", "badcode.test", http.StatusMovedPermanently, "https://new.example.org/"},
		{"request_uri_keeps_path_and_query", "moved.test", http.StatusMovedPermanently, "https://new.example.org/some/page?q=1"},
		{"url_without_path_goes_as_written", "nopath.test", http.StatusMovedPermanently, "https://new.example.org"},
		{"relative_url_is_made_absolute", "relative.test", http.StatusFound, "http://relative.test/new-location"},
		{"relative_url_leaves_out_the_port", "relative.test:30080", http.StatusFound, "http://relative.test/new-location"},
		{"use_port_in_redirects_keeps_the_port", "keepport.test:30080", http.StatusMovedPermanently, "http://keepport.test:30080/new-location?from=old"},
		{"relative_redirects_goes_as_written", "relativekept.test:30080", http.StatusMovedPermanently, "/new-location?from=old"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.await(t, call{host: c.host, path: "/some/page?q=1"}, c.status, "")
			if got := r.header.Get("Location"); got != c.location {
				t.Errorf("Location = %q, want %q", got, c.location)
			}
		})
	}
	t.Run("relative_url_over_https_is_made_absolute_with_https", func(t *testing.T) {
		r := s.await(t, call{host: "relative.test:30443", path: "/some/page?q=1", https: true}, http.StatusFound, "")
		if got, want := r.header.Get("Location"), "https://relative.test/new-location"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
	})
	waitDiagnostic(t, s, "default/both", "AnnotationIgnored", "temporal-redirect")
	waitDiagnostic(t, s, "default/bad-code", "InvalidAnnotation", "399")
	expectNoRejection(t, s.envoy)
}

// TestAnnotationAppRoot: a request for "/" alone is redirected with 302 to
// the app root on the same host; every other path is served. The Ingress
// is translator/testdata/in/e2e_app_root.yaml.
func TestAnnotationAppRoot(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_app_root.yaml", backend(t, "app"))
	r := s.await(t, call{host: "approot.test:8080", path: "/"}, http.StatusFound, "")
	if got, want := r.header.Get("Location"), "http://approot.test:8080/app1"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	r = s.must(t, call{host: "approot.test", path: "/?q=1"})
	if got, want := r.header.Get("Location"), "http://approot.test/app1"; r.status != http.StatusFound || got != want {
		t.Errorf("/?q=1: %d to %q, want 302 to %q", r.status, got, want)
	}
	for _, p := range []string{"/app1", "/app1/page", "/other"} {
		s.await(t, call{host: "approot.test", path: p}, http.StatusOK, "app")
	}
}

// TestAnnotationFromToWWW: with from-to-www-redirect, the other name of a
// host (www. added or removed) answers 308 to the same path and query on
// the host, over HTTP and, when the certificate covers it, over HTTPS; a
// name that a rule serves itself is left alone. The Ingresses are
// translator/testdata/in/e2e_from_to_www.yaml.
func TestAnnotationFromToWWW(t *testing.T) {
	s := startStack(t, "delta")
	s.applyCase(t, "e2e_from_to_www.yaml", backend(t, "shop"), backend(t, "blog"), backend(t, "bare"))

	r := s.await(t, call{host: "shop.test", path: "/cart?item=3"}, http.StatusPermanentRedirect, "")
	if got, want := r.header.Get("Location"), "http://www.shop.test/cart?item=3"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	r = s.await(t, call{host: "www.blog.test", path: "/post/1"}, http.StatusPermanentRedirect, "")
	if got, want := r.header.Get("Location"), "http://blog.test/post/1"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	r = s.await(t, call{host: "shop.test", path: "/cart", https: true}, http.StatusPermanentRedirect, "")
	if got, want := r.header.Get("Location"), "https://www.shop.test/cart"; got != want {
		t.Errorf("over HTTPS: Location = %q, want %q", got, want)
	}
	s.await(t, call{host: "www.bare.test", path: "/"}, http.StatusOK, "bare")
	s.await(t, call{host: "blog.test", path: "/"}, http.StatusOK, "blog")
	expectNoRejection(t, s.envoy)
}
