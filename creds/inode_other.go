//go:build !unix

package creds

import "io/fs"

// inode is 0 where os.Stat reports no inode (Windows): Stamp then rests on size and the
// modification time, which a rename of a freshly written file changes too.
func inode(fs.FileInfo) uint64 { return 0 }
