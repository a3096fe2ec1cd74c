package ir

// ResponseRewrite rewrites headers of the backend's responses, as nginx's
// proxy_redirect, proxy_cookie_domain and proxy_cookie_path do; a nil
// field rewrites nothing.
type ResponseRewrite struct {
	// Location rewrites a Location header, and the URL of a Refresh
	// header (after "url="), that starts with From (case-sensitive):
	// From is replaced by To.
	Location *TextRewrite `json:"location,omitempty"`
	// CookieDomain rewrites the Domain attribute of each Set-Cookie header
	// when it equals From, ignoring letter case and a leading dot (which
	// stays); From is lowercase and has no leading dot.
	CookieDomain *TextRewrite `json:"cookieDomain,omitempty"`
	// CookiePath rewrites the Path attribute of each Set-Cookie header
	// that starts with From (case-sensitive): From is replaced by To.
	CookiePath *TextRewrite `json:"cookiePath,omitempty"`
}

// TextRewrite replaces From with To.
type TextRewrite struct {
	From string `json:"from"`
	To   string `json:"to"`
}
