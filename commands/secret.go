package commands

import (
	"fmt"
	"os"
	"strings"
)

// clientSecret reads a client secret from the environment variable or the file a profile names.
// Secrets never come from argv (other users can read it in /proc) or the profile itself.
func clientSecret(envVar, file string) (string, error) {
	return readSecret("client secret", envVar, file)
}

// readSecret reads the secret called what from envVar, else from file (which group and others
// must not be able to read); "" when neither is named.
func readSecret(what, envVar, file string) (string, error) {
	switch {
	case envVar != "":
		s := os.Getenv(envVar)
		if s == "" {
			return "", usageErrorf("the %s variable %s is empty or unset", what, envVar)
		}
		return s, nil
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", usageErrorf("%s file: %v", what, err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return "", usageErrorf("%s file: %v", what, err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			return "", withHint(ExitUsage, fmt.Errorf("%s file %s has mode %04o: readable by group or others", what, file, st.Mode().Perm()), fmt.Sprintf("run \"chmod 600 %s\"", file))
		}
		buf := make([]byte, 8192)
		n, _ := f.Read(buf)
		if s := strings.TrimSpace(string(buf[:n])); s != "" {
			return s, nil
		}
		return "", usageErrorf("%s file %s is empty", what, file)
	}
	return "", nil
}
