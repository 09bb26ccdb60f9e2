package webui

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestFindSocketOwner(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 100 1 0000000000000000 100 0 0 10 0
   1: 0100007F:A2F4 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1001        0 101 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:A2F4 01 00000000:00000000 00:00000000 00000000     0        0 102 1 0000000000000000 20 4 30 10 -1
`
	server := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0x1F90}
	client := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0xA2F4}
	uid, found, err := findSocketOwner(strings.NewReader(table), client, server)
	if err != nil || !found || uid != 1001 {
		t.Fatalf("client socket: uid %d, found %v, %v; want 1001", uid, found, err)
	}
	if _, found, _ := findSocketOwner(strings.NewReader(table), &net.TCPAddr{IP: client.IP, Port: 1}, server); found {
		t.Fatalf("found a socket that is not in the table")
	}

	table6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:C350 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000  1002        0 200 1
`
	uid, found, err = findSocketOwner(strings.NewReader(table6),
		&net.TCPAddr{IP: net.IPv6loopback, Port: 0xC350}, &net.TCPAddr{IP: net.IPv6loopback, Port: 0x1F90})
	if err != nil || !found || uid != 1002 {
		t.Fatalf("IPv6 client socket: uid %d, found %v, %v; want 1002", uid, found, err)
	}
}

func TestSocketOwnerOfRealConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	local, remote := s.LocalAddr().(*net.TCPAddr), s.RemoteAddr().(*net.TCPAddr)
	if err := socketOwnerCheck(local, remote, os.Getuid()); err != nil {
		t.Fatalf("own connection refused: %v", err)
	}
	if err := socketOwnerCheck(local, remote, os.Getuid()+1); !errors.Is(err, errForeignUser) {
		t.Fatalf("connection checked against another uid: %v; want errForeignUser", err)
	}
}

// TestOtherUserCannotConnect has a process of another user (nobody) ask
// the app for its page: the connection must close without an answer. It
// needs root, to start that process.
func TestOtherUserCannotConnect(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("needs bash for its /dev/tcp client")
	}
	a := startApp(t)
	port := a.srv.Addr().Port
	script := fmt.Sprintf(`exec 3<>/dev/tcp/127.0.0.1/%d || exit 0
printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n' >&3
cat <&3`, port, port)
	ask := func(uid uint32) string {
		cmd := exec.Command(bash, "-c", script)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: 65534}}
		cmd.Dir = "/"
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	// The same client as this user gets an answer (403: no session), so
	// the silence below is the owner check and not a broken client.
	if out := ask(uint32(os.Getuid())); !strings.Contains(out, "403 Forbidden") {
		t.Fatalf("own user's request: %q; want a 403 answer", out)
	}
	if out := ask(65534); strings.Contains(out, "HTTP/") {
		t.Fatalf("another user's request was answered: %q", out)
	}
}
