package limiter

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"

	htpasswd "github.com/tg123/go-htpasswd"
)

// Credentials finds a route's users by the name its check carries:
// htpasswd lines ("user:hash"). An error (no such name, rukou not
// reachable) refuses the request with 500, never admits it.
type Credentials interface {
	Credentials(ctx context.Context, name string) ([]byte, error)
}

// CredentialsFunc adapts a function to Credentials.
type CredentialsFunc func(ctx context.Context, name string) ([]byte, error)

// Credentials calls f.
func (f CredentialsFunc) Credentials(ctx context.Context, name string) ([]byte, error) {
	return f(ctx, name)
}

// errNoCredentials answers every basic check when the limiter has no way
// to find credentials.
var errNoCredentials = errors.New("no source of credentials")

// hashFormats are the hashes nginx's auth_basic checks; the translator
// leaves out lines of any other.
var hashFormats = []htpasswd.PasswdParser{
	htpasswd.AcceptMd5, htpasswd.AcceptSha, htpasswd.AcceptSsha, htpasswd.AcceptBcrypt, htpasswd.AcceptCryptSha,
}

// maxVerified bounds the successful verifications kept; past it the set
// starts again empty, which costs a bcrypt per user once more.
const maxVerified = 4096

// basicChecker checks Basic credentials against a route's users. A
// bcrypt costs milliseconds, so a successful check is remembered by an
// HMAC (with a key of this process) of the users' version, the user and
// the password: the password itself is never kept, and a change of the
// users forgets every check made against them.
type basicChecker struct {
	source Credentials
	key    []byte

	mu       sync.Mutex
	files    map[string]*userFile
	verified map[[sha256.Size]byte]bool
}

// userFile is one route's users as read, with the bytes they were read
// from and their version.
type userFile struct {
	raw     []byte
	version [sha256.Size]byte
	file    *htpasswd.File
}

func newBasicChecker(source Credentials) *basicChecker {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand never fails on supported platforms
	return &basicChecker{source: source, key: key, files: map[string]*userFile{}, verified: map[[sha256.Size]byte]bool{}}
}

// check reports whether the request's Basic credentials name a user of
// the credentials called name, with the right password.
func (c *basicChecker) check(ctx context.Context, name string, h http.Header) (bool, error) {
	if c.source == nil {
		return false, errNoCredentials
	}
	raw, err := c.source.Credentials(ctx, name)
	if err != nil {
		return false, fmt.Errorf("credentials %s: %w", name, err)
	}
	f, err := c.users(name, raw)
	if err != nil {
		return false, err
	}
	user, password, ok := (&http.Request{Header: h}).BasicAuth()
	if !ok {
		return false, nil
	}
	mac := hmac.New(sha256.New, c.key)
	mac.Write(f.version[:])
	fmt.Fprintf(mac, "%d:%s:%s", len(user), user, password)
	var sum [sha256.Size]byte
	copy(sum[:], mac.Sum(nil))
	c.mu.Lock()
	known := c.verified[sum]
	c.mu.Unlock()
	if known {
		return true, nil
	}
	if !f.file.Match(user, password) {
		return false, nil
	}
	c.mu.Lock()
	if len(c.verified) >= maxVerified {
		clear(c.verified)
	}
	c.verified[sum] = true
	c.mu.Unlock()
	return true, nil
}

// users returns the users read from raw, reading them again only when
// the bytes changed.
func (c *basicChecker) users(name string, raw []byte) (*userFile, error) {
	c.mu.Lock()
	f := c.files[name]
	c.mu.Unlock()
	if f != nil && bytes.Equal(f.raw, raw) {
		return f, nil
	}
	// Bad lines were reported by the translator; they admit no one.
	file, err := htpasswd.NewFromReader(bytes.NewReader(raw), hashFormats, nil)
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", name, err)
	}
	f = &userFile{raw: bytes.Clone(raw), version: sha256.Sum256(raw), file: file}
	c.mu.Lock()
	c.files[name] = f
	c.mu.Unlock()
	return f, nil
}
