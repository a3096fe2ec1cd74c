package watcher

import (
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rukou/rukou/translator/ingress"
)

// TestQuietChangesAreNotKeptBetweenRebuilds: a change left unsignalled is
// remembered only while a rebuild runs (to be judged again by its reads);
// a cluster whose other Secrets change for hours while no rebuild runs
// does not grow the store.
func TestQuietChangesAreNotKeptBetweenRebuilds(t *testing.T) {
	s := NewStore()
	s.SetReads(&ingress.Reads{Services: map[types.NamespacedName]struct{}{}, Secrets: map[types.NamespacedName]struct{}{}})
	secret := func(i int) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "token-" + strconv.Itoa(i)}}
	}
	for i := range 1000 {
		s.Upsert(KubeSource, secret(i))
	}
	if len(s.quiet) != 0 {
		t.Errorf("%d quiet changes kept with no rebuild running, want none", len(s.quiet))
	}
	s.TakeChanges()
	for i := range 3 {
		s.Upsert(KubeSource, secret(i))
	}
	if len(s.quiet) != 3 {
		t.Errorf("%d quiet changes kept during a rebuild, want 3", len(s.quiet))
	}
	s.SetReads(s.reads)
	if len(s.quiet) != 0 {
		t.Errorf("%d quiet changes kept after the rebuild, want none", len(s.quiet))
	}
}
