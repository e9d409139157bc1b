//go:build !linux

package redistest

import "os/exec"

func startCmd(cmd *exec.Cmd) error { return cmd.Start() }
