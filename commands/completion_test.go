package commands_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokctl/tokctl/commands"
	"github.com/tokctl/tokctl/config"
)

// completionFiles are the checked-in scripts, by shell.
var completionFiles = map[string]string{
	"bash":       "../completions/tokctl.bash",
	"zsh":        "../completions/tokctl.zsh",
	"fish":       "../completions/tokctl.fish",
	"powershell": "../completions/tokctl.ps1",
}

// TestCompletionScriptsUpToDate: completions/ holds exactly what "tokctl completion SHELL"
// prints, so packages and archives ship the scripts of the binary beside them.
func TestCompletionScriptsUpToDate(t *testing.T) {
	for shell, file := range completionFiles {
		out, code := runTokctl(t, "completion", shell)
		if code != 0 || out == "" {
			t.Fatalf("tokctl completion %s: exit %d, %d bytes", shell, code, len(out))
		}
		checkedIn, err := os.ReadFile(file)
		if err != nil || string(checkedIn) != out {
			t.Errorf("%s is not what \"tokctl completion %s\" prints: regenerate completions/ with\n\tgo generate ./commands", strings.TrimPrefix(file, "../"), shell)
		}
	}
	if _, code := runTokctl(t, "completion", "tcsh"); code != commands.ExitUsage {
		t.Errorf("tokctl completion tcsh: exit %d, want %d", code, commands.ExitUsage)
	}
}

// TestCompleteAnswers pins what "tokctl __complete WORD… CURRENT" (the question every script
// asks) answers: commands, flags, flag values and first arguments, all from the CLI definition.
func TestCompleteAnswers(t *testing.T) {
	home := profilesHome(t, "work", "ci")
	t.Setenv("TOKCTL_HOME", home)
	other := profilesHome(t, "other")
	for _, tc := range []struct {
		words []string // after "tokctl __complete"; the last is the word being completed
		want  []string // values, descriptions cut off
	}{
		{[]string{"to"}, []string{"token"}},
		{[]string{"m"}, nil}, // "tokctl man" is hidden
		{[]string{"profile", ""}, []string{"set", "list", "show", "remove"}},
		{[]string{"token", "--pro"}, []string{"--provider", "--profile"}},
		{[]string{"token", "--output", "json", "--ou"}, nil}, // given once already
		{[]string{"profile", "set", "--scope", "a", "--sc"}, []string{"--scope"}},
		{[]string{"token", "--profile", ""}, []string{"ci", "work"}},
		{[]string{"token", "-p", "w"}, []string{"work"}},
		{[]string{"token", "--profile=c"}, []string{"--profile=ci"}},
		{[]string{"--home", other, "token", "--profile", ""}, []string{"other"}},
		{[]string{"token", "--home=" + other, "--profile", ""}, []string{"other"}},
		{[]string{"profile", "show", ""}, []string{"ci", "work"}},
		{[]string{"profile", "remove", "w"}, []string{"work"}},
		{[]string{"profile", "set", ""}, []string{"ci", "work"}},
		{[]string{"profile", "show", "work", ""}, nil},
		{[]string{"token", "--output", ""}, []string{"token", "header", "json"}},
		{[]string{"token", "--output=j"}, []string{"--output=json"}},
		{[]string{"profile", "set", "--provider", "ok"}, []string{"okta"}},
		{[]string{"profile", "set", "--grant", ""}, []string{"authorization_code", "client_credentials"}},
		{[]string{"profile", "set", "--store", ""}, []string{"file"}},
		{[]string{"git-credential", ""}, []string{"get", "store", "erase"}},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish", "powershell"}},
		{[]string{"token", "--client-id", ""}, nil},
		{[]string{"token", "--creds-file", ""}, []string{":files"}},
		{[]string{"profile", "set", "--client-secret-file=x"}, []string{":files"}},
		{[]string{"import", ""}, []string{":files"}},
		{[]string{"--home", ""}, []string{":dirs"}},
		{[]string{"exec", "--", ""}, []string{":files"}},
	} {
		out, code := runTokctl(t, append([]string{"__complete"}, tc.words...)...)
		if got := values(out); code != 0 || !slices.Equal(got, tc.want) {
			t.Errorf("complete %q: exit %d, %q, want %q", tc.words, code, got, tc.want)
		}
	}
	if out, _ := runTokctl(t, "__complete", "tok"); !strings.Contains(out, "token\tprint a valid access token") {
		t.Errorf("commands are offered without their description: %q", out)
	}
}

// TestCompletionInBash loads completions/tokctl.bash into a real bash and calls the function
// it registered for tokctl as bash does on <TAB> (COMP_WORDS split the way bash splits them,
// "=" apart). The function runs the real tokctl binary found on PATH.
func TestCompletionInBash(t *testing.T) {
	bash := lookShell(t, "bash")
	env := shellEnv(t)
	other := profilesHome(t, "other")
	const driver = `
source "$1" || exit 1
shift
spec=$(complete -p tokctl) || exit 1
[[ $spec =~ -F\ ([^ ]+) ]] || { echo "no completion function in: $spec" >&2; exit 1; }
COMP_WORDS=("$@") COMP_CWORD=$(($# - 1))
COMP_LINE="$*" COMP_POINT=${#COMP_LINE} COMP_TYPE=9 COMP_KEY=9 COMPREPLY=()
"${BASH_REMATCH[1]}" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"`
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"tokctl", "to"}, []string{"token"}},
		{[]string{"tokctl", "token", "--pro"}, []string{"--profile", "--provider"}},
		{[]string{"tokctl", "token", "--profile", ""}, []string{"ci", "work"}},
		{[]string{"tokctl", "token", "-p", "c"}, []string{"ci"}},
		{[]string{"tokctl", "token", "--profile", "=", ""}, []string{"ci", "work"}}, // --profile=<TAB>
		{[]string{"tokctl", "token", "--profile", "=", "w"}, []string{"work"}},      // --profile=w<TAB>
		{[]string{"tokctl", "--home", other, "token", "--profile", ""}, []string{"other"}},
		{[]string{"tokctl", "profile", "show", ""}, []string{"ci", "work"}},
		{[]string{"tokctl", "token", "--output", ""}, []string{"header", "json", "token"}},
		{[]string{"tokctl", "token", "--home", other}, []string{other}},
	} {
		args := append([]string{"--norc", "--noprofile", "-c", driver, "bash", completionScript(t, "bash")}, tc.words...)
		out := runShell(t, env, bash, args...)
		if got := sorted(strings.Fields(out)); !slices.Equal(got, sorted(tc.want)) { // COMPREPLY as it is
			t.Errorf("bash: %q<TAB> offers %q, want %q", strings.Join(tc.words, " "), got, tc.want)
		}
	}
}

// TestCompletionInFish asks a real fish what it would offer ("complete -C"), with
// completions/tokctl.fish loaded. Skipped where fish is not installed.
func TestCompletionInFish(t *testing.T) {
	fish := lookShell(t, "fish")
	env := shellEnv(t)
	for line, want := range map[string][]string{
		"tokctl to":                []string{"token"},
		"tokctl token --pro":       []string{"--profile", "--provider"},
		"tokctl token --profile ":  []string{"ci", "work"},
		"tokctl token --profile=w": []string{"--profile=work"},
		"tokctl completion f":      []string{"fish"},
	} {
		out := runShell(t, env, fish, "--no-config", "-c", `source $argv[1]; and complete -C $argv[2]`, completionScript(t, "fish"), line)
		if got := sorted(values(out)); !slices.Equal(got, want) {
			t.Errorf("fish: %q<TAB> offers %q, want %q", line, got, want)
		}
	}
}

// TestCompletionInZsh runs completions/tokctl.zsh in a real zsh with the completion system's
// functions (_describe, _files, compset) replaced by stand-ins that print what they are given:
// it checks the words reach tokctl and its answers reach zsh. Skipped without zsh.
func TestCompletionInZsh(t *testing.T) {
	zsh := lookShell(t, "zsh")
	env := shellEnv(t)
	const driver = `
_describe() { local name=${@[-1]}; print -rl -- "${(@P)name}" }
_files() { print -r -- ":files($*)" }
compset() { PREFIX=${PREFIX#"$2"} }
compdef() { : }
source "$1" || exit 1
shift
words=("$@") CURRENT=$# PREFIX=${@[-1]}
_tokctl`
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"tokctl", "to"}, []string{"token"}},
		{[]string{"tokctl", "token", "--pro"}, []string{"--provider", "--profile"}},
		{[]string{"tokctl", "token", "--profile", ""}, []string{"ci", "work"}},
		{[]string{"tokctl", "token", "--profile=w"}, []string{"work"}},
		{[]string{"tokctl", "'token'", "--output", ""}, []string{"token", "header", "json"}},
		{[]string{"tokctl", "token", "--creds-file", ""}, []string{":files()"}},
		{[]string{"tokctl", "--home", ""}, []string{":files(-/)"}},
	} {
		args := append([]string{"-f", "-c", driver, "zsh", completionScript(t, "zsh")}, tc.words...)
		out := runShell(t, env, zsh, args...)
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			value, _, _ := strings.Cut(line, ":") // "token:print a valid…"; ":files" stays whole
			if value == "" {
				value = line
			}
			got = append(got, value)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("zsh: %q<TAB> offers %q, want %q", strings.Join(tc.words, " "), got, tc.want)
		}
	}
}

// TestVersionFromLdflags: a release build says the version goreleaser stamped into it.
func TestVersionFromLdflags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tokctl")
	build := exec.Command("go", "build", "-trimpath", "-tags", "urfave_cli_no_docs",
		"-ldflags", "-s -w -X main.version=v1.2.3-test", "-o", bin, "github.com/tokctl/tokctl")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "--version")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stdout.String() != "tokctl version v1.2.3-test\n" || stderr.Len() > 0 {
		t.Fatalf("tokctl --version: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}

// TestManPage: "tokctl man" (run by the release to ship tokctl.1) covers every command and
// the exit codes, and groff reads it without a warning.
func TestManPage(t *testing.T) {
	page, code := runTokctl(t, "man")
	if code != 0 || !strings.HasPrefix(page, ".TH TOKCTL 1 ") {
		t.Fatalf("tokctl man: exit %d, %q…", code, page[:min(len(page), 40)])
	}
	for _, want := range []string{
		`.SS "tokctl token"`, `.SS "tokctl profile set"`, `.SS "tokctl git\-credential"`, `.SS "tokctl completion"`,
		`\fB\-\-profile\fR \fINAME\fR`, `\fB\-\-min\-ttl\fR \fIDURATION\fR`, ".SH EXIT STATUS\n.TP\n.B 0\n", ".B 130\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the man page lacks %q", want)
		}
	}
	if strings.Contains(page, `"tokctl man"`) {
		t.Error("the man page documents the hidden man command")
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Log("groff not installed: not rendering the page")
		return
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("groff: %v\n%s", err, out)
	}
}

// runTokctl runs tokctl in-process and returns its stdout and exit code.
func runTokctl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := commands.Main(context.Background(), append([]string{"tokctl"}, args...),
		commands.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}, "test")
	if code == 0 && stderr.Len() > 0 {
		t.Errorf("tokctl %q wrote to stderr: %s", args, stderr.String())
	}
	return stdout.String(), code
}

// profilesHome is a TOKCTL_HOME holding the named profiles.
func profilesHome(t *testing.T, names ...string) string {
	t.Helper()
	home := t.TempDir()
	p := config.Paths{Config: home, State: home}
	for _, name := range names {
		if err := p.SaveProfile(&config.Profile{Name: name, TokenURL: "http://127.0.0.1:9/token", ClientID: "cli"}); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

// shellEnv runs a shell with the real tokctl (the release build) first on PATH and
// TOKCTL_HOME holding the profiles "ci" and "work".
func shellEnv(t *testing.T) []string {
	bin := tokctlBinary(t, "")
	return []string{
		"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"TOKCTL_HOME=" + profilesHome(t, "work", "ci"),
		"LC_ALL=C",
	}
}

func runShell(t *testing.T, env []string, shell string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(shell, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("%s %q: %v\n%s", filepath.Base(shell), args[len(args)-1], err, stderr.String())
	}
	return stdout.String()
}

func lookShell(t *testing.T, name string) string {
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed", name)
	}
	return path
}

func completionScript(t *testing.T, shell string) string {
	path, err := filepath.Abs(completionFiles[shell])
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// values are the candidates of a completion answer, without descriptions.
func values(out string) []string {
	var vs []string
	for _, line := range strings.Split(out, "\n") {
		if v, _, _ := strings.Cut(line, "\t"); v != "" {
			vs = append(vs, v)
		}
	}
	return vs
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
