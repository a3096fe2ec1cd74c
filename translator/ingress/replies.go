package ingress

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/rukou/rukou/translator/ir"
	"github.com/rukou/rukou/translator/nginx"
)

// nginxReasons are the reason phrases of nginx's own error pages where
// they differ from Go's (ngx_http_special_response.c); users and
// monitors read them in the page's title.
var nginxReasons = map[uint32]string{
	401: "Authorization Required",
	405: "Not Allowed",
	408: "Request Time-out",
	413: "Request Entity Too Large",
	414: "Request-URI Too Large",
	503: "Service Temporarily Unavailable",
	504: "Gateway Time-out",
}

// proxyStatuses are the statuses the proxy answers with itself: a bad
// request, authentication and address checks, no route, limits, bodies
// and headers too large, and the failures to reach a backend.
var proxyStatuses = []uint32{400, 401, 403, 404, 405, 408, 413, 414, 429, 431, 500, 501, 502, 503, 504}

// errorPage is the body of the proxy's own answer of a status, in the
// shape of nginx's (title, heading, a rule and the server's name), named
// rukou, as nginx names itself with server_tokens off.
func errorPage(status uint32) string {
	reason, ok := nginxReasons[status]
	if !ok {
		reason = http.StatusText(int(status))
	}
	line := strconv.FormatUint(uint64(status), 10) + " " + reason
	return "<html>\r\n<head><title>" + line + "</title></head>\r\n<body>\r\n<center><h1>" + line +
		"</h1></center>\r\n<hr><center>rukou</center>\r\n</body>\r\n</html>\r\n"
}

// localReplies are the bodies of the proxy's own answers, as nginx gives
// its own a page: the statuses above, and those the ConfigMap chose for
// the limits.
func localReplies(s *nginx.Settings) []ir.LocalReply {
	statuses := slices.Clone(proxyStatuses)
	for _, st := range []uint32{s.LimitReqStatus, s.LimitConnStatus} {
		if st != 0 && !slices.Contains(statuses, st) {
			statuses = append(statuses, st)
		}
	}
	slices.Sort(statuses)
	out := make([]ir.LocalReply, 0, len(statuses))
	for _, st := range statuses {
		out = append(out, localReply(st))
	}
	return out
}

// localReply is the page of one of the proxy's own answers.
func localReply(status uint32) ir.LocalReply {
	return ir.LocalReply{Status: status, Body: errorPage(status), ContentType: "text/html"}
}
