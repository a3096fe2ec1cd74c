package ingress

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	htpasswd "github.com/tg123/go-htpasswd"
	corev1 "k8s.io/api/core/v1"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// credentialsPrefix starts the name of every Credentials: the Envoy
// backend serves them as secrets of that name, which only rukou's limiter
// asks for.
const credentialsPrefix = "basic-auth/"

// hashFormats are the password hashes nginx's auth_basic checks (its own
// $apr1$, {SHA} and {SSHA}, and those of the system's crypt: $1$, bcrypt,
// $5$, $6$). A plain-text password is not among them.
var hashFormats = []htpasswd.PasswdParser{
	htpasswd.AcceptMd5, htpasswd.AcceptSha, htpasswd.AcceptSsha, htpasswd.AcceptBcrypt, htpasswd.AcceptCryptSha,
}

// basicAuthUsers reads the Secret an Ingress's auth-secret names into the
// users its routes check. A Secret that is missing or lacks its key makes
// the Ingress's paths answer 503, as ingress-nginx denies the location.
// A line that is not a user and a known hash is left out and reported:
// nginx reads the file line by line and such a line admits no one, while
// the other users keep working.
func basicAuthUsers(ann *nginx.Annotations, secret func(string) (*corev1.Secret, bool)) []nginx.Issue {
	if ann.Policy == nil || ann.Policy.BasicAuth == nil {
		return nil
	}
	ba := ann.Policy.BasicAuth
	deny := denier(ann, "auth-secret", "; the Ingress's paths answer 503 rather than serve without authentication")
	s, ok := secret(ba.Secret)
	if !ok {
		deny(ir.ReasonSecretNotFound, "Secret %s not found", ba.Secret)
		return nil
	}
	var lines []string
	name := credentialsPrefix + ba.Secret
	if ba.Map {
		name += "/auth-map"
		for _, user := range slices.Sorted(maps.Keys(s.Data)) {
			lines = append(lines, user+":"+strings.TrimSpace(string(s.Data[user])))
		}
	} else {
		auth, ok := s.Data["auth"]
		if !ok {
			deny(ir.ReasonInvalidSecret, "Secret %s has no key auth (auth-secret-type auth-file)", ba.Secret)
			return nil
		}
		lines = strings.Split(string(auth), "\n")
	}
	users, bad := htpasswdLines(lines)
	var issues []nginx.Issue
	for _, b := range bad {
		issues = append(issues, nginx.Issue{Name: "auth-secret", Reason: ir.ReasonInvalidSecret,
			Msg: fmt.Sprintf("Secret %s: %s; it admits no one, the other users are checked", ba.Secret, b)})
	}
	// A copy: the annotations read are the Ingress's own.
	copied := *ba
	copied.Credentials = &ir.Credentials{Name: name, Users: users}
	p := *ann.Policy
	p.BasicAuth = &copied
	ann.Policy = &p
	return issues
}

// htpasswdLines keeps, of htpasswd lines, the first line of each user whose
// hash is of a known format, and says what is wrong with the others
// without quoting them: they may hold a password.
func htpasswdLines(lines []string) (users []byte, bad []string) {
	var buf bytes.Buffer
	seen := map[string]bool{}
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		switch {
		case !ok || user == "":
			bad = append(bad, fmt.Sprintf("line %d is not user:hash", i+1))
			continue
		case strings.ContainsAny(hash, "\n\r"):
			bad = append(bad, fmt.Sprintf("the hash of user %q spans lines", user))
			continue
		case !knownHash(hash):
			bad = append(bad, fmt.Sprintf("the hash of user %q (line %d) is not bcrypt, $apr1$, $1$, {SHA}, {SSHA}, $5$ or $6$", user, i+1))
			continue
		case seen[user]:
			continue // nginx stops at a user's first line
		}
		seen[user] = true
		buf.WriteString(user + ":" + hash + "\n")
	}
	return buf.Bytes(), bad
}

// knownHash reports a hash that one of hashFormats reads.
func knownHash(hash string) bool {
	for _, accept := range hashFormats {
		if p, err := accept(hash); err != nil {
			return false
		} else if p != nil {
			return true
		}
	}
	return false
}

// credentials lists the users that routes check, once each, by name.
func credentials(routes map[string]*ir.Credentials) []*ir.Credentials {
	out := slices.Collect(maps.Values(routes))
	slices.SortFunc(out, func(x, y *ir.Credentials) int { return cmp.Compare(x.Name, y.Name) })
	return out
}
