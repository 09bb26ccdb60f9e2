package rendezvous

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// startFuzzServer is startServer for a fuzz target: one server for all of
// its inputs, stopped when the target ends. (startServer takes a
// *testing.T, which a fuzz target's setup does not have.)
func startFuzzServer(f *testing.F) *testServer {
	f.Helper()
	dir := f.TempDir()
	cert, _, err := LoadOrCreateCertificate(dir)
	if err != nil {
		f.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "rendezvous.db"))
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(Config{
		TLS:      TLSConfig(cert),
		Password: testPassword,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, st)
	if err != nil {
		f.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	ts := &testServer{srv: srv, store: st, addr: ln.Addr().String(), fp: Fingerprint(cert), dir: dir, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ln) }()
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-ts.done
		st.Close()
	})
	return ts
}

// fuzzRegisterFrames is a register request with keys made now, so that
// this seed, unlike the one in testdata (whose prekey expires 90 days
// after it was made), always passes validation; then requests that only a
// logged-in connection may make.
func fuzzRegisterFrames(f *testing.F, ts *testServer) []byte {
	f.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	pk, _, err := keys.NewPrekey(priv, "fresh.seed", time.Now(), 7*24*time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	proof, err := keys.SignProof(priv, "fresh.seed", ts.srv.id)
	if err != nil {
		f.Fatal(err)
	}
	var buf []byte
	for i, r := range []struct {
		op   string
		body any
	}{
		{wire.OpRegister, wire.RegisterRequest{Username: "fresh.seed", Password: "fresh-seed-password", IdentityKey: pub, Prekey: pk, KeyProof: proof}},
		{wire.OpFriendRequest, wire.UserRequest{Username: "seed.user"}},
		{wire.OpRelaySend, wire.RelaySendRequest{Envelopes: []wire.RelayEnvelope{{To: "seed.user", ID: "00000000000000000000000000000001", Envelope: []byte("x")}}}},
		{wire.OpRelayAck, wire.RelayAckRequest{
			Acks:    []wire.RelayRef{{From: "seed.user", ID: "00000000000000000000000000000001"}},
			Refused: []wire.RelayRef{{From: "seed.user", ID: "00000000000000000000000000000002"}},
		}},
		{wire.OpRelayDroppedAck, wire.RelayDroppedAckRequest{Drops: []wire.RelayDropRef{{To: "seed.user", ID: "00000000000000000000000000000001"}}}},
		{wire.OpPrekeyRotate, wire.PrekeyRotateRequest{Prekey: pk}},
		{wire.OpRoomCreate, wire.RoomCreateRequest{Room: "seed.room", Topic: "a topic"}},
		{wire.OpRoomsList, wire.RoomsListRequest{Query: "seed", Limit: 10}},
		{wire.OpRoomTopic, wire.RoomTopicRequest{Room: "seed.room", Topic: "another"}},
		{wire.OpRoomBan, wire.RoomUserRequest{Room: "seed.room", Username: "seed.user"}},
		{wire.OpRoomPost, wire.RoomPostRequest{Room: "seed.room", ID: "00000000000000000000000000000003"}},
		{wire.OpUsersOnline, wire.UsersOnlineRequest{Room: "seed.room", All: true}},
		{wire.OpRoomLeave, wire.RoomRequest{Room: "seed.room"}},
		{wire.OpKeysGetMany, wire.KeysGetManyRequest{Usernames: []string{"seed.user", "fresh.seed", "nobody.seed"}}},
		{wire.OpFriendsList, nil},
	} {
		fr, err := wire.NewRequest(uint64(i+1), r.op, r.body)
		if err != nil {
			f.Fatal(err)
		}
		if buf, err = wire.AppendFrame(buf, fr); err != nil {
			f.Fatal(err)
		}
	}
	return buf
}

// FuzzRequest writes arbitrary bytes to the server after a good hello and
// checks that whatever it sends back is well-formed, that it answers every
// whole request (or closes), that nothing follows a connection error
// frame, and that the server goes on serving a well-behaved client. Seeds
// are in testdata/fuzz/FuzzRequest.
//
//	go test -run='^$' -fuzz=FuzzRequest -fuzztime=30s ./rendezvous/
func FuzzRequest(f *testing.F) {
	ts := startFuzzServer(f)

	// The account the liveness check logs in to. Its name is in no seed.
	const healthUser, healthPassword = "fuzz-health", "fuzz-health-password"
	{
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := client.Dial(ctx, ts.addr, client.Options{Fingerprint: ts.fp})
		if err != nil {
			f.Fatal(err)
		}
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			f.Fatal(err)
		}
		pk, _, err := keys.NewPrekey(priv, healthUser, time.Now(), keys.MaxPrekeyLifetime)
		if err != nil {
			f.Fatal(err)
		}
		proof, err := keys.SignProof(priv, healthUser, ts.srv.id)
		if err != nil {
			f.Fatal(err)
		}
		err = c.Call(ctx, wire.OpRegister, wire.RegisterRequest{Username: healthUser, Password: healthPassword, IdentityKey: pub, Prekey: pk, KeyProof: proof}, nil)
		c.Close()
		if err != nil {
			f.Fatal(err)
		}
	}

	// Fuzz connections come from 127.0.0.2 where it can be bound, so that
	// failed logins the fuzzer makes cannot put the liveness check's
	// address (127.0.0.1) into login back-off.
	from := "127.0.0.2"
	if ln, err := net.Listen("tcp", from+":0"); err != nil {
		from = ""
	} else {
		ln.Close()
	}

	f.Add(fuzzRegisterFrames(f, ts))
	f.Fuzz(func(t *testing.T, data []byte) {
		rc, err := dialRawFrom(t, ts.addr, from)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		rc.hello()

		// When data is a whole number of frames, a ping follows it and its
		// reply marks the end of the server's answers: every request must
		// be answered, or the connection closed. Otherwise the server
		// waits for the rest of a frame, and we wait 200ms.
		const sentinel = 1<<64 - 2
		whole := framesTile(data, wire.DefaultMaxFrame)
		payload, wait := data, 200*time.Millisecond
		if whole {
			ping, err := wire.AppendFrame(nil, &wire.Frame{Kind: wire.KindRequest, ID: sentinel, Op: wire.OpPing})
			if err != nil {
				t.Fatal(err)
			}
			payload, wait = append(slices.Clip(data), ping...), 5*time.Second
		}
		// The server may close the connection before it has read it all;
		// a failed write is then expected.
		rc.tc.SetWriteDeadline(time.Now().Add(2 * time.Second))
		rc.tc.Write(payload)

		deadline := time.Now().Add(wait)
		var closedBy *wire.Frame
		for {
			rc.tc.SetReadDeadline(deadline)
			fr, err := rc.r.ReadFrame()
			var ne net.Error
			switch {
			case errors.Is(err, wire.ErrMalformed) || errors.Is(err, wire.ErrFrameTooLarge):
				t.Fatalf("the server sent an undecodable frame: %v", err)
			case errors.As(err, &ne) && ne.Timeout() && whole && closedBy == nil:
				t.Fatalf("no reply to a ping after %d bytes of whole frames within %v, and the connection is open", len(data), wait)
			case errors.As(err, &ne) && ne.Timeout() && whole:
				t.Fatalf("connection still open %v after the error frame %v", wait, closedBy.Error)
			case err != nil:
				// Closed, reset, or done waiting.
			case closedBy != nil:
				t.Fatalf("frame %+v after the error frame %v", fr, closedBy.Error)
			case fr.Kind == wire.KindResponse && fr.ID == sentinel && whole:
				err = io.EOF // all answered
			case fr.Kind == wire.KindResponse || fr.Kind == wire.KindEvent:
			case fr.Kind == wire.KindError:
				closedBy = fr
			default:
				t.Fatalf("the server sent a %q frame", fr.Kind)
			}
			if err != nil {
				break
			}
		}
		rc.tc.Close()

		// The server is still up: a fresh client logs in and pings.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := client.Dial(ctx, ts.addr, client.Options{Fingerprint: ts.fp})
		if err != nil {
			t.Fatalf("server down after input: dial: %v", err)
		}
		defer c.Close()
		if err := c.Call(ctx, wire.OpLogin, wire.LoginRequest{Username: healthUser, Password: healthPassword}, nil); err != nil {
			t.Fatalf("server down after input: login: %v", err)
		}
		if err := c.Call(ctx, wire.OpPing, nil, nil); err != nil {
			t.Fatalf("server down after input: ping: %v", err)
		}
	})
}

// framesTile reports whether data is a sequence of whole frames, each of
// 1 to max bytes.
func framesTile(data []byte, max int) bool {
	for len(data) > 0 {
		if len(data) < 4 {
			return false
		}
		n := uint64(binary.BigEndian.Uint32(data))
		if n == 0 || n > uint64(max) || n > uint64(len(data)-4) {
			return false
		}
		data = data[4+n:]
	}
	return true
}
