package status

import (
	"fmt"
	"strings"
	"sync"

	frontend "github.com/rukou/rukou/translator/ingress"
	"github.com/rukou/rukou/translator/ir"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/tools/record"
)

// Events turns diagnostics into Kubernetes Events on their Ingress: a Warning
// per diagnostic and a Normal "Accepted" once an Ingress is served as
// written. Each is recorded once per change, never on every rebuild.
type Events struct {
	Recorder record.EventRecorder

	mu   sync.Mutex
	seen map[string]*ingressEvents // namespace/name
}

type ingressEvents struct {
	generation int64
	warned     map[ir.Diagnostic]bool
	accepted   bool
}

// Record emits the Events that are new since the last call.
func (e *Events) Record(ingresses []*networkingv1.Ingress, statuses []frontend.Status) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen == nil {
		e.seen = map[string]*ingressEvents{}
	}
	byKey := make(map[string]*networkingv1.Ingress, len(ingresses))
	for _, ing := range ingresses {
		byKey[ing.Namespace+"/"+ing.Name] = ing
	}
	live := map[string]bool{}
	for _, st := range statuses {
		key := st.Namespace + "/" + st.Name
		ing, ok := byKey[key]
		if !ok || !st.Owned {
			continue
		}
		live[key] = true
		prev := e.seen[key]
		if prev == nil || prev.generation != ing.Generation {
			// A new spec: what was said about the old one no longer holds.
			prev = &ingressEvents{generation: ing.Generation, warned: map[ir.Diagnostic]bool{}}
			e.seen[key] = prev
		}
		current := map[ir.Diagnostic]bool{}
		for _, d := range st.Diagnostics {
			current[d] = true
			if !prev.warned[d] {
				e.Recorder.Event(ing, corev1.EventTypeWarning, string(d.Reason), message(d))
			}
		}
		prev.warned = current
		if st.Accepted && !prev.accepted {
			e.Recorder.Eventf(ing, corev1.EventTypeNormal, "Accepted", "served by rukou for hosts %s", hostList(st.Hosts))
		}
		prev.accepted = st.Accepted
	}
	for key := range e.seen {
		if !live[key] {
			delete(e.seen, key)
		}
	}
}

func message(d ir.Diagnostic) string {
	if d.Field == "" {
		return d.Message
	}
	return fmt.Sprintf("%s: %s", d.Field, d.Message)
}

func hostList(hosts []string) string {
	if len(hosts) == 0 {
		return "* (all)"
	}
	return strings.Join(hosts, ", ")
}
