package e2e

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"

	"github.com/lanchat/lanchat/discovery"
)

// A forger announces someone else's instance id at its own address: what
// an attacker on the LAN can do. The LAN test runs it, as a re-run of this
// test binary, inside mallory's namespace.
const (
	envForgeKey  = "LANCHAT_E2E_FORGE_KEY"  // PEM file of the victim's identity key
	envForgePort = "LANCHAT_E2E_FORGE_PORT" // the UDP port to announce
)

// helperMode runs the forger when this binary was started as one, and
// reports whether it did.
func helperMode() bool {
	keyFile := os.Getenv(envForgeKey)
	if keyFile == "" {
		return false
	}
	if err := forge(keyFile, os.Getenv(envForgePort)); err != nil {
		fmt.Fprintln(os.Stderr, "forger:", err)
		os.Exit(1)
	}
	os.Exit(0)
	return true
}

func forge(keyFile, portText string) error {
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return fmt.Errorf("%s: not PEM", keyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return err
	}
	victim := k.(ed25519.PrivateKey).Public().(ed25519.PublicKey)
	port, err := strconv.Atoi(portText)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ann, err := discovery.NewAnnouncer(discovery.AnnouncerConfig{Identity: victim, Port: port, Logger: log})
	if err != nil {
		return err
	}
	defer ann.Close()
	fmt.Printf("forging %s on port %d\n", ann.Instance(), port)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return nil
}

// startForger announces the identity key in keyFile at port on h.
func (h *host) startForger(t *testing.T, keyFile string, port int) *proc {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", h.ns, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envForgeKey+"="+keyFile, envForgePort+"="+strconv.Itoa(port))
	p := startCmd(t, cmd)
	return p
}
