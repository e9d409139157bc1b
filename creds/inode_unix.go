//go:build unix

package creds

import (
	"io/fs"
	"syscall"
)

// inode is the file's inode number: a rename over the file changes it even when size and
// modification time happen to match.
func inode(st fs.FileInfo) uint64 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Ino) // uint32 on a few platforms
	}
	return 0
}
