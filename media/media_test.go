package media

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"testing"

	"github.com/plop-chat/plop"
)

// gradient is an opaque w×h test picture.
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// mustNormalize normalizes data and checks that the result decodes to what it claims.
func mustNormalize(tb testing.TB, data []byte, l Limits) (Image, image.Image) {
	tb.Helper()
	out, err := Normalize(bytes.NewReader(data), l)
	if err != nil {
		tb.Fatalf("Normalize: %v", err)
	}
	img, format, err := image.Decode(bytes.NewReader(out.Data))
	if err != nil {
		tb.Fatalf("the normalized image does not decode: %v", err)
	}
	if "image/"+format != out.ContentType {
		tb.Fatalf("content type %s but the data is %s", out.ContentType, format)
	}
	if b := img.Bounds(); b.Dx() != out.Width || b.Dy() != out.Height {
		tb.Fatalf("claims %dx%d, decodes to %dx%d", out.Width, out.Height, b.Dx(), b.Dy())
	}
	return out, img
}

func assertCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if plop.ErrorCode(err) != code {
		tb.Fatalf("err = %v, want %s", err, code)
	}
}

func TestNormalizeShrinksPNG(t *testing.T) {
	out, _ := mustNormalize(t, encodePNG(t, gradient(700, 420)), AvatarLimits)
	if out.Width != 512 || out.Height != 307 {
		t.Fatalf("700x420 fit into 512: got %dx%d, want 512x307", out.Width, out.Height)
	}
	if out.ContentType != "image/jpeg" {
		t.Fatalf("opaque PNG re-encoded as %s, want image/jpeg", out.ContentType)
	}
}

func TestNormalizeJPEG(t *testing.T) {
	out, _ := mustNormalize(t, encodeJPEG(t, gradient(300, 200)), AvatarLimits)
	if out.Width != 300 || out.Height != 200 || out.ContentType != "image/jpeg" {
		t.Fatalf("small JPEG became %s %dx%d, want unchanged 300x200 JPEG", out.ContentType, out.Width, out.Height)
	}
	tall, _ := mustNormalize(t, encodeJPEG(t, gradient(200, 600)), AvatarLimits)
	if tall.Width != 170 || tall.Height != 512 {
		t.Fatalf("200x600 fit into 512: got %dx%d, want 170x512", tall.Width, tall.Height)
	}
}

// TestNormalizeDropsMetadata: a comment or EXIF block in the upload is not in the output.
func TestNormalizeDropsMetadata(t *testing.T) {
	src := encodeJPEG(t, gradient(64, 64))
	marker := "GPS 48.8584 N 2.2945 E secret"
	seg := append([]byte{0xff, 0xfe, 0, byte(len(marker) + 2)}, marker...) // COM segment
	withComment := append(append(append([]byte{}, src[:2]...), seg...), src[2:]...)
	out, _ := mustNormalize(t, withComment, AvatarLimits)
	if bytes.Contains(out.Data, []byte(marker)) {
		t.Fatal("the comment survived normalization")
	}
}

// exifJPEG returns a JPEG whose EXIF block carries the given orientation tag.
func exifJPEG(tb testing.TB, img image.Image, orientation uint16) []byte {
	tb.Helper()
	src := encodeJPEG(tb, img)
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a\x00\x00\x00\x08")                  // big-endian TIFF header, IFD at 8
	binary.Write(&tiff, binary.BigEndian, uint16(1))                // one entry
	binary.Write(&tiff, binary.BigEndian, []uint16{0x0112, 3})      // Orientation, SHORT
	binary.Write(&tiff, binary.BigEndian, uint32(1))                // count
	binary.Write(&tiff, binary.BigEndian, []uint16{orientation, 0}) // value, padded
	binary.Write(&tiff, binary.BigEndian, uint32(0))                // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	app1 := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(payload)+2))
	return append(append(append(append([]byte{}, src[:2]...), app1...), payload...), src[2:]...)
}

func TestNormalizeAppliesEXIFOrientation(t *testing.T) {
	// Orientation 6: the camera was turned; the picture must be rotated 90° clockwise.
	out, img := mustNormalize(t, exifJPEG(t, gradient(200, 100), 6), AvatarLimits)
	if out.Width != 100 || out.Height != 200 {
		t.Fatalf("orientation 6 on 200x100 gave %dx%d, want 100x200", out.Width, out.Height)
	}
	// The source's top-left is dark red-free (x=0); after the turn it is at the top right.
	r, _, _, _ := img.At(99, 0).RGBA()
	if r>>8 > 40 {
		t.Fatalf("pixel at the top right has red %d; the image was not rotated clockwise", r>>8)
	}
}

func TestNormalizeKeepsTransparencyAsPNG(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	for y := range 100 {
		for x := range 100 {
			a := uint8(255)
			if x < 50 {
				a = 0
			}
			img.SetNRGBA(x, y, color.NRGBA{200, 30, 30, a})
		}
	}
	out, dec := mustNormalize(t, encodePNG(t, img), AvatarLimits)
	if out.ContentType != "image/png" {
		t.Fatalf("transparent PNG re-encoded as %s", out.ContentType)
	}
	if _, _, _, a := dec.At(10, 50).RGBA(); a != 0 {
		t.Errorf("transparent pixel has alpha %d", a)
	}
	if _, _, _, a := dec.At(90, 50).RGBA(); a != 0xffff {
		t.Errorf("opaque pixel has alpha %d", a)
	}
	// Shrunk, it stays transparent.
	big := image.NewNRGBA(image.Rect(0, 0, 600, 600))
	out, dec = mustNormalize(t, encodePNG(t, big), AvatarLimits)
	if out.ContentType != "image/png" || out.Width != 512 {
		t.Fatalf("transparent 600² became %s %dx%d", out.ContentType, out.Width, out.Height)
	}
	if _, _, _, a := dec.At(256, 256).RGBA(); a != 0 {
		t.Errorf("shrunk transparent pixel has alpha %d", a)
	}
}

func TestNormalizeGIF(t *testing.T) {
	pal := image.NewPaletted(image.Rect(0, 0, 40, 30), palette.Plan9)
	var b bytes.Buffer
	if err := gif.Encode(&b, pal, nil); err != nil {
		t.Fatal(err)
	}
	out, _ := mustNormalize(t, b.Bytes(), AvatarLimits)
	if out.ContentType != "image/jpeg" || out.Width != 40 || out.Height != 30 {
		t.Fatalf("opaque GIF became %s %dx%d", out.ContentType, out.Width, out.Height)
	}
	clear := image.NewPaletted(image.Rect(0, 0, 40, 30), color.Palette{color.Transparent, color.Black})
	b.Reset()
	gif.Encode(&b, clear, nil)
	if out, _ := mustNormalize(t, b.Bytes(), AvatarLimits); out.ContentType != "image/png" {
		t.Fatalf("transparent GIF became %s, want image/png", out.ContentType)
	}
}

// solidWebP returns a lossless WebP (VP8L) image of w×h pixels of one colour: every prefix
// code has a single symbol, so the pixels take no bits at all.
func solidWebP(w, h int, c color.NRGBA) []byte {
	var bits []bool
	put := func(v uint32, n int) {
		for i := range n {
			bits = append(bits, v>>i&1 == 1)
		}
	}
	put(uint32(w-1), 14)
	put(uint32(h-1), 14)
	put(1, 1) // alpha is used
	put(0, 3) // version
	put(0, 1) // no transform
	put(0, 1) // no colour cache
	put(0, 1) // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A} {
		put(1, 1) // simple code
		put(0, 1) // one symbol
		put(1, 1) // 8-bit symbol
		put(uint32(sym), 8)
	}
	put(1, 1) // distance code: simple, one 1-bit symbol 0
	put(0, 1)
	put(0, 1)
	put(0, 1)
	data := []byte{0x2f}
	for i := 0; i < len(bits); i += 8 {
		var by byte
		for j := 0; j < 8 && i+j < len(bits); j++ {
			if bits[i+j] {
				by |= 1 << j
			}
		}
		data = append(data, by)
	}
	if len(data)%2 == 1 {
		data = append(data, 0)
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(4+8+len(data)))
	out.WriteString("WEBPVP8L")
	binary.Write(&out, binary.LittleEndian, uint32(len(data)))
	out.Write(data)
	return out.Bytes()
}

func TestNormalizeWebP(t *testing.T) {
	out, dec := mustNormalize(t, solidWebP(600, 300, color.NRGBA{10, 200, 30, 255}), AvatarLimits)
	if out.ContentType != "image/jpeg" || out.Width != 512 || out.Height != 256 {
		t.Fatalf("opaque WebP became %s %dx%d, want 512x256 JPEG", out.ContentType, out.Width, out.Height)
	}
	if _, g, _, _ := dec.At(5, 5).RGBA(); g>>8 < 180 {
		t.Fatalf("green channel %d, want about 200", g>>8)
	}
	out, _ = mustNormalize(t, solidWebP(20, 20, color.NRGBA{10, 200, 30, 0}), AvatarLimits)
	if out.ContentType != "image/png" {
		t.Fatalf("transparent WebP became %s, want image/png", out.ContentType)
	}
}

func TestNormalizeRefusesNonImages(t *testing.T) {
	valid := encodePNG(t, gradient(200, 200))
	bmp := append([]byte("BM"), make([]byte, 60)...)
	for name, data := range map[string][]byte{
		"empty":            nil,
		"text":             []byte("hello, this is a text file, not a picture\n"),
		"html":             []byte("<html><script>alert(1)</script></html>"),
		"svg":              []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
		"bmp":              bmp,
		"truncated PNG":    valid[:len(valid)/2],
		"PNG header only":  valid[:33],
		"PNG magic only":   valid[:8],
		"truncated JPEG":   encodeJPEG(t, gradient(200, 200))[:300],
		"PNG, body of zip": append(append([]byte{}, valid[:8]...), "PK\x03\x04 not an image at all ........................"...),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Normalize(bytes.NewReader(data), AvatarLimits)
			assertCode(t, err, plop.EInvalid)
			if !strings.Contains(plop.ErrorMessage(err), "not an image") {
				t.Fatalf("message %q does not say \"not an image\"", plop.ErrorMessage(err))
			}
		})
	}
}

func TestNormalizeMaxBytes(t *testing.T) {
	data := encodePNG(t, gradient(300, 300))
	_, err := Normalize(bytes.NewReader(data), Limits{MaxBytes: int64(len(data)) - 1, MaxDim: 512})
	assertCode(t, err, plop.ETooLarge)
	mustNormalize(t, data, Limits{MaxBytes: int64(len(data)), MaxDim: 512})
}

// bombPNG returns a PNG whose header declares w×h RGB pixels, followed by a tiny IDAT and
// IEND: a few dozen bytes that would need w×h×4 bytes of memory once decoded.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB; compression, filter, interlace 0
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}) // empty zlib stream
	chunk("IEND", nil)
	return b.Bytes()
}

func TestNormalizeRefusesBombBeforeDecoding(t *testing.T) {
	bomb := bombPNG(100000, 100000)
	// The header is genuine: the standard decoder reads the claimed size.
	cfg, err := png.DecodeConfig(bytes.NewReader(bomb))
	if err != nil || cfg.Width != 100000 || cfg.Height != 100000 {
		t.Fatalf("crafted PNG header reads as %+v, %v", cfg, err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Normalize(bytes.NewReader(bomb), AvatarLimits)
	runtime.ReadMemStats(&after)
	assertCode(t, err, plop.ETooLarge)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("refusing the bomb allocated %d bytes: it was decoded", alloc)
	}
	// Just over the pixel limit, with a realistic size.
	_, err = Normalize(bytes.NewReader(bombPNG(8000, 7000)), AvatarLimits)
	assertCode(t, err, plop.ETooLarge)
}

func BenchmarkNormalizePhoto(b *testing.B) {
	data := encodeJPEG(b, gradient(3000, 2000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Normalize(bytes.NewReader(data), AvatarLimits); err != nil {
			b.Fatal(err)
		}
	}
}
