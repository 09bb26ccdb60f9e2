package webui

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// procTCPTables list every TCP socket of this network namespace.
var procTCPTables = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// maxTCPTable bounds how much of a table is read.
const maxTCPTable = 64 << 20

// socketOwnerCheck returns nil if the client end of the connection
// local←remote belongs to uid: it looks the client socket up in the
// kernel's TCP tables. Where the tables cannot be read at all it lets
// the connection through (the cookie still guards it); a socket missing
// from readable tables is refused.
func socketOwnerCheck(local, remote *net.TCPAddr, uid int) error {
	readable := false
	for _, table := range procTCPTables {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		readable = true
		owner, found, err := findSocketOwner(io.LimitReader(f, maxTCPTable), remote, local)
		f.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		if found {
			if owner != uid {
				return fmt.Errorf("%w (uid %d)", errForeignUser, owner)
			}
			return nil
		}
	}
	if !readable {
		return nil
	}
	return errors.New("the client socket is not in the kernel's TCP tables")
}

// findSocketOwner scans a /proc/net/tcp-format table for the socket
// bound to local and connected to remote, and returns its uid.
func findSocketOwner(r io.Reader, local, remote *net.TCPAddr) (uid int, found bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 4096)
	first := true
	for sc.Scan() {
		if first { // the header
			first = false
			continue
		}
		f := bytes.Fields(sc.Bytes())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
		if len(f) < 8 {
			continue
		}
		if !addrIs(string(f[1]), local) || !addrIs(string(f[2]), remote) {
			continue
		}
		u, err := strconv.Atoi(string(f[7]))
		if err != nil {
			return 0, false, fmt.Errorf("bad uid %q", f[7])
		}
		return u, true, nil
	}
	return 0, false, sc.Err()
}

// addrIs reports whether a table address ("0100007F:1F90", the IP as
// 32-bit words in host order, little-endian here) is a.
func addrIs(s string, a *net.TCPAddr) bool {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil || int(port) != a.Port {
		return false
	}
	raw, err := hex.DecodeString(hexIP)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return false
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	return net.IP(raw).Equal(a.IP)
}
