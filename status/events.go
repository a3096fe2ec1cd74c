package status

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"

	frontend "github.com/rukou/rukou/translator/ingress"
	"github.com/rukou/rukou/translator/ir"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// Events turns diagnostics into Kubernetes Events on the objects they are
// about: on each Ingress a Warning per diagnostic and a Normal "Accepted"
// once it is served as written; on the controller's ConfigMaps a Warning
// per key that is not applied as written. Each is recorded once per change
// of the object, never on every rebuild.
type Events struct {
	Recorder record.EventRecorder

	mu   sync.Mutex
	seen map[string]*objectEvents // kind namespace/name
}

// objectEvents is what was last said about one object, at one version of
// it (an Ingress's generation, a ConfigMap's resourceVersion).
type objectEvents struct {
	version  string
	warned   map[ir.Diagnostic]bool
	accepted bool
	live     bool
}

// Record emits the Events that are new since the last call: for the
// Ingresses rukou owns, from their statuses, and for the ConfigMaps, from
// the diagnostics about them.
func (e *Events) Record(ingresses []*networkingv1.Ingress, statuses []frontend.Status, configMaps []*corev1.ConfigMap, diags []ir.Diagnostic) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen == nil {
		e.seen = map[string]*objectEvents{}
	}
	for _, prev := range e.seen {
		prev.live = false
	}
	byKey := make(map[string]*networkingv1.Ingress, len(ingresses))
	for _, ing := range ingresses {
		byKey[ing.Namespace+"/"+ing.Name] = ing
	}
	for _, st := range statuses {
		ing, ok := byKey[st.Namespace+"/"+st.Name]
		if !ok || !st.Owned {
			continue
		}
		prev := e.warn(ing, "Ingress", strconv.FormatInt(ing.Generation, 10), st.Diagnostics)
		if st.Accepted && !prev.accepted {
			e.Recorder.Eventf(ing, corev1.EventTypeNormal, "Accepted", "served by rukou for hosts %s", hostList(st.Hosts))
		}
		prev.accepted = st.Accepted
	}
	byConfigMap := map[string][]ir.Diagnostic{}
	for _, d := range diags {
		if d.Kind == "ConfigMap" {
			byConfigMap[d.Namespace+"/"+d.Name] = append(byConfigMap[d.Namespace+"/"+d.Name], d)
		}
	}
	for _, cm := range configMaps {
		if ds := byConfigMap[cm.Namespace+"/"+cm.Name]; len(ds) > 0 {
			e.warn(cm, "ConfigMap", cm.ResourceVersion, ds)
		}
	}
	maps.DeleteFunc(e.seen, func(_ string, prev *objectEvents) bool { return !prev.live })
}

// object is a Kubernetes object that Events can be about.
type object interface {
	metav1.Object
	runtime.Object
}

// warn records a Warning for each diagnostic of obj not already warned
// about at this version of it, and returns what is now said about it.
func (e *Events) warn(obj object, kind, version string, diags []ir.Diagnostic) *objectEvents {
	key := kind + " " + obj.GetNamespace() + "/" + obj.GetName()
	prev := e.seen[key]
	if prev == nil || prev.version != version {
		// A new spec: what was said about the old one no longer holds.
		prev = &objectEvents{version: version}
		e.seen[key] = prev
	}
	prev.live = true
	var current map[ir.Diagnostic]bool // most objects have none
	if len(diags) > 0 {
		current = make(map[ir.Diagnostic]bool, len(diags))
	}
	for _, d := range diags {
		current[d] = true
		if !prev.warned[d] {
			e.Recorder.Event(obj, corev1.EventTypeWarning, string(d.Reason), message(d))
		}
	}
	prev.warned = current
	return prev
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
