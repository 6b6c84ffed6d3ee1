//go:build !unix

package main

import "io"

// terminalWidth is 0 (any width) where the terminal's is not known.
func terminalWidth(io.Writer) int { return 0 }
