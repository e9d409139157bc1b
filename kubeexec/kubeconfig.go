package kubeexec

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// User describes the kubeconfig user that runs a credential plugin.
type User struct {
	Name    string   // the users[].name entry, e.g. "tokctl-work"
	Command string   // the plugin, looked up in PATH unless absolute
	Args    []string // its arguments
	Env     []EnvVar // extra environment for the plugin
}

// EnvVar is one exec env entry.
type EnvVar struct{ Name, Value string }

// KubeconfigYAML renders u as a kubeconfig file holding just that user, with apiVersion v1,
// interactiveMode IfAvailable (kubectl lets the plugin prompt only when kubectl itself runs in
// a terminal) and provideClusterInfo false. The file can be added to KUBECONFIG as it is
// (kubectl merges the files it lists), or its "- name:" entry pasted under users: in an
// existing kubeconfig.
func KubeconfigYAML(u User) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nusers:\n")
	fmt.Fprintf(&b, "- name: %s\n", yamlString(u.Name))
	b.WriteString("  user:\n    exec:\n")
	fmt.Fprintf(&b, "      apiVersion: %s\n", V1)
	fmt.Fprintf(&b, "      command: %s\n", yamlString(u.Command))
	if len(u.Args) > 0 {
		b.WriteString("      args:\n")
		for _, a := range u.Args {
			fmt.Fprintf(&b, "      - %s\n", yamlString(a))
		}
	}
	if len(u.Env) > 0 {
		b.WriteString("      env:\n")
		for _, e := range u.Env {
			fmt.Fprintf(&b, "      - name: %s\n        value: %s\n", yamlString(e.Name), yamlString(e.Value))
		}
	}
	b.WriteString("      interactiveMode: IfAvailable\n      provideClusterInfo: false\n")
	return b.String()
}

// plainYAML matches strings safe to write unquoted: names, paths and flags such as --profile.
// Compiled on first use: every tokctl start would pay for it otherwise, hot path included.
var plainYAML = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(--?)?[A-Za-z_/][A-Za-z0-9_./-]*$`) })

// yamlString writes s as a YAML string: plain when YAML cannot read it as anything else,
// otherwise double-quoted (a JSON string is a valid YAML double-quoted scalar). Numbers and the
// words YAML 1.1 reads as booleans or null ("yes", "off", "null" …) are quoted, so a profile
// named "no" or "2024" stays a string.
func yamlString(s string) string {
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
	default:
		if plainYAML().MatchString(s) {
			return s
		}
	}
	q, _ := json.Marshal(s)
	return string(q)
}
