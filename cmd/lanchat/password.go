package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// maxPasswordLine bounds a password line read from stdin.
const maxPasswordLine = 4096

// passwords reads passwords: lines of stdin with --password-stdin,
// otherwise prompts on the terminal without echo.
type passwords struct {
	ctx       context.Context
	fromStdin bool
	stdin     io.Reader
	prompts   io.Writer // where prompts go: stderr, never stdout
	lines     *bufio.Reader
}

func (e *env) passwords(fromStdin bool) *passwords {
	return &passwords{ctx: e.ctx, fromStdin: fromStdin, stdin: e.stdin, prompts: e.stderr}
}

// check fails early, before anything is asked, when there is no way to
// read a password.
func (p *passwords) check(c *command) error {
	if p.fromStdin {
		return nil
	}
	if _, ok := terminalFd(p.stdin); !ok {
		return usageError(c, "stdin is not a terminal: pipe the password in and pass --password-stdin")
	}
	return nil
}

// read returns one password, prompting with prompt on a terminal.
func (p *passwords) read(what, prompt string) (string, error) {
	if p.fromStdin {
		return p.line(what)
	}
	fd, ok := terminalFd(p.stdin)
	if !ok {
		return "", errors.New("stdin is not a terminal: pipe the password in and pass --password-stdin")
	}
	fmt.Fprint(p.prompts, prompt)
	pw, err := readNoEcho(p.ctx, fd)
	fmt.Fprintln(p.prompts)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	if pw == "" {
		return "", fmt.Errorf("the %s is empty", what)
	}
	return pw, nil
}

// readNew asks for a new password twice on a terminal, once from stdin.
func (p *passwords) readNew(what, prompt string) (string, error) {
	pw, err := p.read(what, prompt)
	if err != nil || p.fromStdin {
		return pw, err
	}
	again, err := p.read(what, "Repeat "+strings.ToLower(prompt[:1])+prompt[1:])
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", errors.New("the passwords do not match")
	}
	return pw, nil
}

// line reads the next line of stdin as a password.
func (p *passwords) line(what string) (string, error) {
	if p.lines == nil {
		p.lines = bufio.NewReaderSize(p.stdin, maxPasswordLine)
	}
	line, err := p.lines.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("the %s on stdin is over %d bytes", what, maxPasswordLine)
	case errors.Is(err, io.EOF) && len(line) == 0:
		return "", fmt.Errorf("no %s on stdin", what)
	case err != nil && !errors.Is(err, io.EOF):
		return "", fmt.Errorf("read %s from stdin: %w", what, err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
	if pw == "" {
		return "", fmt.Errorf("the %s on stdin is empty", what)
	}
	return pw, nil
}

// terminalFd returns r's file descriptor if r is a terminal.
func terminalFd(r io.Reader) (int, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// readNoEcho reads a line from the terminal fd without echo. Ctrl-C (which
// cancels ctx) puts the terminal back and returns at once.
func readNoEcho(ctx context.Context, fd int) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	type result struct {
		pw  []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		pw, err := term.ReadPassword(fd)
		done <- result{pw, err}
	}()
	select {
	case r := <-done:
		return string(r.pw), r.err
	case <-ctx.Done():
		term.Restore(fd, state)
		return "", ctx.Err()
	}
}
