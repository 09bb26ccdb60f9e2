package transfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/transfer/transfertest"
)

// An offer in any other protocol version than Version, or in none, is
// refused with a version abort that names both versions, before the
// rest of it is read (a newer offer may carry fields this one does not
// know), and leaves nothing on the receiver's disk.
func TestOfferOtherVersion(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	randomFile(t, filepath.Join(src, "a.bin"), 1000)
	o, _ := NewOffer(filepath.Join(src, "a.bin"))
	prog := transfertest.NewMemProgress()
	out := serveConn(t, newReceiver(t, dst, prog, nil), p.ba)
	for _, tc := range []struct {
		name    string
		version int
		extra   string
	}{
		{"older", Version - 1, ""},
		{"newer, with a field unknown here", Version + 1, `,"future":true`},
		{"none", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := json.Marshal(offerBody{Offer: o, Version: tc.version})
			if err != nil {
				t.Fatal(err)
			}
			body = append(body[:len(body)-1], tc.extra+"}"...)
			code, msg := rawOffer(t, p.ab, json.RawMessage(body))
			if code != "version" {
				t.Fatalf("refused with code %q, message %q; want code version", code, msg)
			}
			if want := fmt.Sprintf("this daemon speaks transfer protocol %d, yours %d: update lanchat", Version, tc.version); msg != want {
				t.Errorf("refusal %q, want %q", msg, want)
			}
			got := waitOutcome(t, out)
			wantErr(t, "receive", got.err, ErrVersion)
			if want := fmt.Sprintf("peer speaks transfer protocol %d, this daemon speaks %d: update lanchat", tc.version, Version); !strings.Contains(got.err.Error(), want) {
				t.Errorf("receiver's error %q does not say %q", got.err, want)
			}
		})
	}
	if entries, _ := os.ReadDir(dst); len(entries) != 0 {
		t.Errorf("destination not empty: %v", entries)
	}
	if cp, _ := prog.Load(context.Background(), o.ID); cp != nil {
		t.Errorf("checkpoint saved for a refused offer: %+v", cp)
	}
}

// A sender records a receiver's version refusal as ErrVersion with the
// receiver's words, and refuses an answer in another version itself,
// telling the receiver why.
func TestSendOtherVersion(t *testing.T) {
	src := t.TempDir()
	randomFile(t, filepath.Join(src, "a.bin"), 1000)
	o, _ := NewOffer(filepath.Join(src, "a.bin"))
	t.Run("refused", func(t *testing.T) {
		p := newPair(t)
		const said = "this daemon speaks transfer protocol 9, yours 4: update lanchat"
		heard := fakeReceiver(t, p, abortBody{Code: "version", Message: said})
		_, err := Send(context.Background(), p.ab, o, SendOptions{})
		wantErr(t, "Send", err, ErrVersion)
		if !strings.Contains(err.Error(), said) {
			t.Errorf("Send's error %q does not carry the receiver's %q", err, said)
		}
		if v := <-heard; v.offer != Version {
			t.Errorf("offered in version %d, want %d", v.offer, Version)
		}
	})
	t.Run("answered in another version", func(t *testing.T) {
		p := newPair(t)
		heard := fakeReceiver(t, p, answerBody{Version: Version - 1})
		_, err := Send(context.Background(), p.ab, o, SendOptions{})
		wantErr(t, "Send", err, ErrVersion)
		if want := fmt.Sprintf("peer speaks transfer protocol %d, this daemon speaks %d: update lanchat", Version-1, Version); !strings.Contains(err.Error(), want) {
			t.Errorf("Send's error %q does not say %q", err, want)
		}
		v := <-heard
		if v.abort.Code != "version" || v.abort.Message != fmt.Sprintf("this daemon speaks transfer protocol %d, yours %d: update lanchat", Version, Version-1) {
			t.Errorf("receiver heard abort %+v", v.abort)
		}
	})
}

// heard is what fakeReceiver got from the sender.
type heard struct {
	offer int       // the offer's version
	abort abortBody // the sender's abort after the reply, if any
}

// fakeReceiver accepts one control stream on p.ba, replies to its offer
// with reply (an abortBody or an answerBody) and reports what it heard.
func fakeReceiver(t *testing.T, p *pair, reply any) <-chan heard {
	t.Helper()
	ch := make(chan heard, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		var h heard
		defer func() { ch <- h }()
		_, s, err := p.ba.AcceptStream(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		defer s.Close()
		s.SetDeadline(time.Now().Add(10 * time.Second))
		rd := wire.NewReader(s, maxControlFrame)
		f, err := readFrame(rd)
		if err != nil {
			t.Error(err)
			return
		}
		var head struct {
			Version int `json:"version"`
		}
		json.Unmarshal(f.Body, &head)
		h.offer = head.Version
		op := opAnswer
		if _, ok := reply.(abortBody); ok {
			op = opAbort
		}
		if err := writeEvent(s, op, reply); err != nil {
			t.Error(err)
			return
		}
		if op == opAbort {
			return
		}
		f, err = readFrame(rd)
		if err != nil {
			t.Error(err)
			return
		}
		if err := decodeEvent(f, opAbort, &h.abort); err != nil && !errors.Is(err, ErrProtocol) {
			t.Errorf("after the answer: %v", err)
		}
	}()
	return ch
}
