package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/internal/media"
)

func TestMakeAvatar(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 600, 300))); err != nil {
		t.Fatal(err)
	}
	pic := filepath.Join(dir, "me.png")
	os.WriteFile(pic, b.Bytes(), 0o600)
	av, err := makeAvatar(context.Background(), pic)
	if err != nil {
		t.Fatal(err)
	}
	if side, err := media.CheckAvatar(context.Background(), av); err != nil || side != 256 {
		t.Fatalf("avatar of a 600×300 picture: side %d, %v", side, err)
	}
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("hello"), 0o600)
	if _, err := makeAvatar(context.Background(), txt); err == nil || !strings.Contains(err.Error(), "notes.txt") {
		t.Fatalf("a text file: %v", err)
	}
	if _, err := makeAvatar(context.Background(), filepath.Join(dir, "missing.jpg")); err == nil {
		t.Fatal("a missing file made an avatar")
	}
}
