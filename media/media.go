// Package media turns untrusted uploaded images into safe ones: it checks what the bytes
// really are, refuses decompression bombs before decoding, bounds the size, and re-encodes
// the pixels so that no metadata (location, camera) and no crafted payload survives.
package media

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // registers GIF with image.Decode
	"image/jpeg"
	"image/png"
	"io"
	"net/http"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/webp" // registers WebP with image.Decode

	"github.com/plop-chat/plop"
)

// Image is a decoded-and-re-encoded image, safe to serve.
type Image struct {
	Data        []byte
	ContentType string // image/jpeg or image/png
	Width       int
	Height      int
}

// Limits bound what Normalize accepts and produces.
type Limits struct {
	MaxBytes  int64 // largest upload; 0 means DefaultMaxBytes
	MaxPixels int   // largest width × height declared by the file; 0 means DefaultMaxPixels
	MaxDim    int   // the output fits MaxDim × MaxDim; 0 keeps the size
}

// Defaults for zero Limits fields.
const (
	DefaultMaxBytes  = 10 << 20
	DefaultMaxPixels = 50_000_000
)

// Limits the services use.
var (
	// AvatarLimits: profile images, shown small.
	AvatarLimits = Limits{MaxBytes: 10 << 20, MaxPixels: 50_000_000, MaxDim: 512}
	// PhotoLimits: images sent in conversations.
	PhotoLimits = Limits{MaxBytes: 20 << 20, MaxPixels: 50_000_000, MaxDim: 2048}
	// ThumbnailLimits: previews of images sent in conversations.
	ThumbnailLimits = Limits{MaxBytes: 20 << 20, MaxPixels: 50_000_000, MaxDim: 320}
)

// JPEGQuality is the quality of re-encoded JPEG images.
const JPEGQuality = 85

// accepted maps the sniffed content type to the image package's format name.
var accepted = map[string]string{
	"image/jpeg": "jpeg",
	"image/png":  "png",
	"image/gif":  "gif",
	"image/webp": "webp",
}

// Normalize reads an uploaded image of at most l.MaxBytes (more is payload_too_large), checks
// that it is a JPEG, PNG, GIF or WebP image (anything else, or a damaged image, is
// invalid_argument "not an image"), refuses an image that declares more than l.MaxPixels
// before decoding it (payload_too_large), applies the EXIF orientation of a JPEG, shrinks it
// to fit l.MaxDim × l.MaxDim keeping the aspect ratio, and re-encodes it: as PNG when it has
// transparent pixels, else as JPEG. Of an animated GIF only the first frame is kept.
func Normalize(r io.Reader, l Limits) (Image, error) {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	data, err := io.ReadAll(io.LimitReader(r, l.MaxBytes+1))
	if err != nil {
		return Image{}, fmt.Errorf("read image: %w", err)
	}
	if int64(len(data)) > l.MaxBytes {
		return Image{}, plop.Errorf(plop.ETooLarge, "image larger than %d bytes", l.MaxBytes)
	}

	format, ok := accepted[http.DetectContentType(data)]
	if !ok {
		return Image{}, plop.Errorf(plop.EInvalid, "not an image (JPEG, PNG, GIF or WebP)")
	}
	cfg, decoded, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || decoded != format {
		return Image{}, plop.Errorf(plop.EInvalid, "not an image: damaged %s header", format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Image{}, plop.Errorf(plop.EInvalid, "not an image: empty %dx%d image", cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(l.MaxPixels) {
		return Image{}, plop.Errorf(plop.ETooLarge, "image of %dx%d pixels, more than %d", cfg.Width, cfg.Height, l.MaxPixels)
	}

	src, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		return Image{}, plop.Errorf(plop.EInvalid, "not an image: damaged %s data", format)
	}
	transparent := hasTransparency(src)
	b := src.Bounds()
	if l.MaxDim > 0 && (b.Dx() > l.MaxDim || b.Dy() > l.MaxDim) {
		src = imaging.Fit(src, l.MaxDim, l.MaxDim, imaging.Lanczos)
	}
	return encode(src, transparent)
}

func encode(img image.Image, transparent bool) (Image, error) {
	var buf bytes.Buffer
	out := Image{ContentType: "image/jpeg", Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}
	var err error
	if transparent {
		out.ContentType = "image/png"
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: JPEGQuality})
	}
	if err != nil {
		return Image{}, fmt.Errorf("encode %s: %w", out.ContentType, err)
	}
	out.Data = buf.Bytes()
	return out, nil
}

// hasTransparency reports whether any pixel of img is not fully opaque.
func hasTransparency(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return !o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return true
			}
		}
	}
	return false
}
