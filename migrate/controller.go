package migrate

import (
	"path"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// What the report looks for in ingress-nginx's objects, with its defaults
// for the flags that decide what it serves (its
// internal/ingress/controller/ingressclass), and the Source.From it gives.
const (
	nginxController = "k8s.io/ingress-nginx"
	nginxClass      = "nginx"
	nginxBinary     = "nginx-ingress-controller"
	legacyClassKey  = "kubernetes.io/ingress.class"
	defaultClassKey = "ingressclass.kubernetes.io/is-default-class"
	argsFromUser    = "--nginx-args"
	argsFromNowhere = "ingress-nginx's defaults (no controller found; give --nginx-args)"
)

// arg is one flag of ingress-nginx's command line, as given.
type arg struct{ Name, Value string }

// controller is what ingress-nginx's flags say about what it serves.
type controller struct {
	// Source says where the flags were read.
	Source string
	Args   []arg
	// IngressClass is --ingress-class, the legacy annotation's value;
	// ControllerClass is --controller-class.
	IngressClass, ControllerClass string
	WithoutClass, ClassByName     bool
	ConfigMap, Namespace          string
	// SSLPassthrough is --enable-ssl-passthrough, which rukou serve
	// takes as it is.
	SSLPassthrough bool
}

// newController reads ingress-nginx's flags: opts.Args when given, else
// the arguments of the first workload that runs its controller. warn
// receives what the report should say about the choice.
func newController(ws []Workload, opts Options, warn func(string, ...any)) controller {
	c := controller{Source: argsFromNowhere}
	args := opts.Args
	if len(args) > 0 {
		c.Source = argsFromUser
	} else if found := nginxWorkloads(ws); len(found) > 0 {
		w := found[0]
		c.Source = w.Kind + " " + w.Namespace + "/" + w.Name
		args = containerArgs(w)
		for _, other := range found[1:] {
			warn("%s %s/%s also runs ingress-nginx; this report follows %s (give --nginx-args for another)", other.Kind, other.Namespace, other.Name, c.Source)
		}
	}
	c.Args = parseArgs(args)
	c.apply()
	if opts.ConfigMap != "" {
		c.ConfigMap = opts.ConfigMap
	}
	return c
}

// apply sets the fields from the flags, with ingress-nginx's defaults.
func (c *controller) apply() {
	c.IngressClass, c.ControllerClass = nginxClass, nginxController
	for _, a := range c.Args {
		switch a.Name {
		case "ingress-class":
			c.IngressClass = a.Value
		case "controller-class":
			c.ControllerClass = a.Value
		case "watch-ingress-without-class":
			c.WithoutClass = a.Value == "true"
		case "ingress-class-by-name":
			c.ClassByName = a.Value == "true"
		case "configmap":
			c.ConfigMap = a.Value
		case "watch-namespace":
			c.Namespace = a.Value
		case "enable-ssl-passthrough":
			c.SSLPassthrough = a.Value == "true"
		}
	}
}

// nginxWorkloads are the workloads with a container that runs
// /nginx-ingress-controller, by namespace and name.
func nginxWorkloads(ws []Workload) []Workload {
	var out []Workload
	for _, w := range ws {
		if nginxContainer(w.Pod) != nil {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b Workload) int {
		return strings.Compare(a.Namespace+"/"+a.Name+"/"+a.Kind, b.Namespace+"/"+b.Name+"/"+b.Kind)
	})
	return out
}

func nginxContainer(pod corev1.PodSpec) *corev1.Container {
	for i, c := range pod.Containers {
		if slices.ContainsFunc(append(slices.Clone(c.Command), c.Args...), isNginxBinary) {
			return &pod.Containers[i]
		}
	}
	return nil
}

func isNginxBinary(s string) bool { return path.Base(s) == nginxBinary }

// containerArgs are the words after /nginx-ingress-controller in the
// container's command and arguments, with $(VAR) references expanded as
// the kubelet expands them.
func containerArgs(w Workload) []string {
	c := nginxContainer(w.Pod)
	words := append(slices.Clone(c.Command), c.Args...)
	words = words[slices.IndexFunc(words, isNginxBinary)+1:]
	env := containerEnv(w, c)
	for i, word := range words {
		words[i] = envRef.ReplaceAllStringFunc(word, func(ref string) string {
			if v, ok := env[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
	}
	return words
}

// envRef is a $(VAR) reference in a container's arguments.
var envRef = regexp.MustCompile(`\$\([A-Za-z_][A-Za-z0-9_]*\)`)

// containerEnv is the container's environment as far as a manifest says:
// literal values, and the pod's namespace (the workload's), which
// ingress-nginx's charts pass as $(POD_NAMESPACE).
func containerEnv(w Workload, c *corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env[e.Name] = w.Namespace
		}
	}
	return env
}

// parseArgs reads a command line as pflag does: --name=value, --name value,
// or --name alone (a boolean, true). Words that are not flags are skipped.
func parseArgs(words []string) []arg {
	var out []arg
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") || w == "-" || w == "--" {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if !hasValue {
			value = "true"
			if i+1 < len(words) && !strings.HasPrefix(words[i+1], "-") {
				value = words[i+1]
				i++
			}
		}
		out = append(out, arg{Name: name, Value: value})
	}
	return out
}
