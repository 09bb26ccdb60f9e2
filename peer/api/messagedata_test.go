package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/api/apitest"
)

const mediaID = "3fa19c0e5b7d4e21a0c6f8d2b9e47a10"

func TestMediaServedWithItsType(t *testing.T) {
	ogg := []byte("OggS\x00 a recording of some length")
	typ := "audio/ogg"
	svc := &apitest.Service{MessageDataFuncs: apitest.MessageDataFuncs{
		MediaDataFunc: func(_ context.Context, id string) (api.MediaData, error) {
			if id != mediaID {
				return api.MediaData{}, api.Errorf(api.CodeNotFound, "no message %s in your history", id)
			}
			return api.MediaData{Name: "memo.ogg", Type: typ, Content: api.Bytes(ogg), Sent: time.Unix(1e9, 0)}, nil
		},
	}}
	d := startDaemon(t, svc)
	ctx := testContext(t)

	gotType, got, err := d.client.Media(ctx, mediaID)
	if err != nil || !bytes.Equal(got, ogg) || gotType != "audio/ogg" {
		t.Fatalf("Media = %q %q, %v", gotType, got, err)
	}
	_, _, err = d.client.Media(ctx, "00000000000000000000000000000000")
	apiError(t, err, api.CodeNotFound)

	get := func(rng string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://lanchat/v1/messages/"+mediaID+"/media", nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := rawClient(d.socket).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get("")
	body, _ := io.ReadAll(resp.Body)
	h := resp.Header
	if resp.StatusCode != http.StatusOK || h.Get("Content-Type") != "audio/ogg" || !bytes.Equal(body, ogg) {
		t.Fatalf("GET: %d %q, %d bytes", resp.StatusCode, h.Get("Content-Type"), len(body))
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "default-src 'none'; sandbox" {
		t.Errorf("headers: nosniff %q, CSP %q", h.Get("X-Content-Type-Options"), h.Get("Content-Security-Policy"))
	}
	// A recording is seekable: ranges are served.
	resp = get("bytes=5-9")
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusPartialContent || string(body) != string(ogg[5:10]) {
		t.Errorf("range: %d %q", resp.StatusCode, body)
	}

	// A type the message format does not allow is never sent as such.
	typ = "text/html"
	resp = get("")
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("a stored type text/html is served as %q", ct)
	}
}

func TestVersionsRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 2, 6, 6, 27, 0, time.UTC)
	want := []api.Version{
		{Text: "lunch at noon?", Sent: at, Received: at.Add(time.Second)},
		{Text: "lunch at one?", Sent: at.Add(time.Minute), Received: at.Add(time.Minute), Edit: "0a06c072f3efe09fa9668af282bfcca9"},
	}
	svc := &apitest.Service{MessageDataFuncs: apitest.MessageDataFuncs{
		VersionsFunc: func(_ context.Context, id string) ([]api.Version, error) {
			if id != mediaID {
				return nil, nil
			}
			return want, nil
		},
	}}
	d := startDaemon(t, svc)
	ctx := testContext(t)
	got, err := d.client.Versions(ctx, mediaID)
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Versions = %+v, %v", got, err)
	}
	got, err = d.client.Versions(ctx, "00000000000000000000000000000000")
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no versions: %#v, %v (want an empty list)", got, err)
	}
}
