package limiter

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/rukou/rukou/limiter/wire"
)

// usersOf serves one route's users, or an error for any other name.
func usersOf(lines string) Credentials {
	return CredentialsFunc(func(_ context.Context, name string) ([]byte, error) {
		if name != "basic-auth/default/users" {
			return nil, errors.New("not served")
		}
		return []byte(lines), nil
	})
}

func bcryptLine(t testing.TB, user, password string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	return user + ":" + string(h) + "\n"
}

func basicHeader(user, password string) map[string]string {
	return map[string]string{"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
}

// TestBasicAuthDecides: the right password passes without the
// Authorization header; anything else is 401 with the realm; credentials
// that cannot be found are 500; satisfy any admits the allowed range
// without credentials.
func TestBasicAuthDecides(t *testing.T) {
	auth := NewAuth(slog.New(slog.DiscardHandler), usersOf(bcryptLine(t, "alice", "pw")+"{SHA}bad-line-without-user\n"))
	route := map[string]string{wire.AuthBasicCredentialsKey: "basic-auth/default/users", wire.AuthBasicRealmKey: "test auth"}
	for _, c := range []struct {
		name    string
		ext     map[string]string
		headers map[string]string
		want    int
	}{
		{"right_password", route, basicHeader("alice", "pw"), http.StatusOK},
		{"same_again_from_the_cache", route, basicHeader("alice", "pw"), http.StatusOK},
		{"wrong_password", route, basicHeader("alice", "no"), http.StatusUnauthorized},
		{"unknown_user", route, basicHeader("bob", "pw"), http.StatusUnauthorized},
		{"no_header", route, nil, http.StatusUnauthorized},
		{"not_basic", route, map[string]string{"authorization": "Bearer x"}, http.StatusUnauthorized},
		{"credentials_not_served", map[string]string{wire.AuthBasicCredentialsKey: "basic-auth/default/gone"}, basicHeader("alice", "pw"), http.StatusInternalServerError},
		{"satisfy_any_allowed_range", with(route, wire.AuthSatisfyAnyKey, "true", wire.AuthAllowKey, "10.0.0.0/24"), nil, http.StatusOK},
		{"satisfy_any_denied_first", with(route, wire.AuthSatisfyAnyKey, "true", wire.AuthAllowKey, "10.0.0.0/24", wire.AuthDenyKey, "10.0.0.9/32"), nil, http.StatusUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := auth.Check(context.Background(), check(c.ext, c.headers))
			if err != nil {
				t.Fatal(err)
			}
			code, h := answer(resp)
			if code != c.want {
				t.Fatalf("got %d, want %d", code, c.want)
			}
			switch {
			case code == http.StatusUnauthorized && h.Get("WWW-Authenticate") != `Basic realm="test auth"`:
				t.Errorf("WWW-Authenticate %q", h.Get("WWW-Authenticate"))
			case code == http.StatusOK && h.Get("Removed") != "authorization":
				t.Errorf("Authorization not removed for the backend: %v", h)
			}
		})
	}
}

func with(ext map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range ext {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// BenchmarkBasicAuth is the limiter's cost of one check: a route with no
// authentication check at all (satisfy any, allowed range), basic
// authentication answered from the cache of verifications, and one that
// runs bcrypt (cost 10) each time.
func BenchmarkBasicAuth(b *testing.B) {
	auth := NewAuth(slog.New(slog.DiscardHandler), usersOf(bcryptLine(b, "alice", "pw")))
	route := map[string]string{wire.AuthBasicCredentialsKey: "basic-auth/default/users", wire.AuthBasicRealmKey: "r"}
	run := func(b *testing.B, req map[string]string, ext map[string]string, fresh bool) {
		for b.Loop() {
			if fresh {
				auth.basic.mu.Lock()
				clear(auth.basic.verified)
				auth.basic.mu.Unlock()
			}
			resp, _ := auth.Check(context.Background(), check(ext, req))
			if resp.GetOkResponse() == nil {
				b.Fatal("refused")
			}
		}
	}
	b.Run("none", func(b *testing.B) {
		run(b, nil, with(route, wire.AuthSatisfyAnyKey, "true", wire.AuthAllowKey, "10.0.0.0/24"), false)
	})
	b.Run("basic_cached", func(b *testing.B) { run(b, basicHeader("alice", "pw"), route, false) })
	b.Run("basic_bcrypt", func(b *testing.B) { run(b, basicHeader("alice", "pw"), route, true) })
}
