package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// basicAuthManifest protects an Ingress with basic authentication; its
// hash must never be printed.
const basicAuthManifest = `apiVersion: v1
kind: Secret
metadata: {name: users, namespace: default}
type: Opaque
stringData:
  auth: "alice:$apr1$5pMKgGiv$X0pjrbfjw6chHoxzPNZQ2.\n"
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: rukou}
spec: {controller: rukou.io/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: private
  namespace: default
  annotations:
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: users
spec:
  ingressClassName: rukou
  defaultBackend: {service: {name: web, port: {number: 80}}}
`

// apr1Hash is alice's hash in basicAuthManifest (htpasswd -m).
const apr1Hash = "$apr1$5pMKgGiv$X0pjrbfjw6chHoxzPNZQ2."

// TestTranslateNeverPrintsHashes: every output of rukou translate names
// basic authentication's credentials and never holds their hashes.
func TestTranslateNeverPrintsHashes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "auth.yaml")
	if err := os.WriteFile(file, []byte(basicAuthManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, output := range []string{"yaml", "json", "model"} {
		t.Run(output, func(t *testing.T) {
			_, out, errOut := runCmd(t, "translate", "-o", output, "-f", file)
			if strings.Contains(out+errOut, apr1Hash[len("$apr1$"):]) {
				t.Errorf("-o %s prints the hash:\n%s%s", output, out, errOut)
			}
			if !strings.Contains(out, "basic-auth/default/users") {
				t.Errorf("-o %s does not name the credentials:\n%s", output, out)
			}
		})
	}
}
