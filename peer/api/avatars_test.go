package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/api/apitest"
)

func TestAvatarServedAsJPEG(t *testing.T) {
	jpg := []byte("\xff\xd8\xff\xe0 a jpeg")
	svc := &apitest.Service{AvatarFunc: func(_ context.Context, user string) (api.Avatar, error) {
		if user != "alice" {
			return api.Avatar{}, api.Errorf(api.CodeNotFound, "no avatar for %s", user)
		}
		return api.Avatar{ID: "0123abcd", Data: jpg}, nil
	}}
	d := startDaemon(t, svc)
	ctx := testContext(t)

	got, err := d.client.Avatar(ctx, "alice")
	if err != nil || !bytes.Equal(got, jpg) {
		t.Fatalf("Avatar = %q, %v", got, err)
	}
	_, err = d.client.Avatar(ctx, "bob")
	apiError(t, err, api.CodeNotFound)
	if status, e := raw(t, d, "GET", "/v1/avatars/bob", ""); status != http.StatusNotFound || e.Code != api.CodeNotFound {
		t.Errorf("no avatar: %d %+v", status, e)
	}

	get := func(etag string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://lanchat/v1/avatars/alice", nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
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
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(body, jpg) {
		t.Fatalf("GET: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	etag := resp.Header.Get("ETag")
	if etag != `"0123abcd"` || resp.Header.Get("Cache-Control") != "private, no-cache" {
		t.Errorf("caching headers: ETag %q, Cache-Control %q", etag, resp.Header.Get("Cache-Control"))
	}
	if resp := get(etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", resp.StatusCode)
	}
	if resp := get(`"other"`); resp.StatusCode != http.StatusOK {
		t.Errorf("stale ETag: %d, want 200", resp.StatusCode)
	}
}

func TestSetProfileAvatarRoundTrip(t *testing.T) {
	jpg := []byte("\xff\xd8\xff\xe0 a jpeg")
	var got *[]byte
	svc := &apitest.Service{SetProfileFunc: func(_ context.Context, req api.ProfileRequest) (api.Me, error) {
		got = req.Avatar
		return api.Me{Username: "alice", Avatar: "0123abcd"}, nil
	}}
	d := startDaemon(t, svc)
	ctx := testContext(t)
	me, err := d.client.SetProfile(ctx, api.ProfileRequest{Avatar: &jpg})
	if err != nil || me.Avatar != "0123abcd" || got == nil || !bytes.Equal(*got, jpg) {
		t.Fatalf("set avatar: %+v, %v; service got %v", me, err, got)
	}
	none := []byte{}
	if _, err := d.client.SetProfile(ctx, api.ProfileRequest{Avatar: &none}); err != nil || got == nil || len(*got) != 0 {
		t.Fatalf("remove avatar: %v; service got %v", err, got)
	}
	if _, err := d.client.SetProfile(ctx, api.ProfileRequest{}); err != nil || got != nil {
		t.Fatalf("no avatar field: %v; service got %v", err, got)
	}
}
