package app

import (
	"mime"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plop-chat/plop"
)

// fileName returns the name to keep for an uploaded file: see cleanName; "file" when
// nothing is left of the client's name.
func fileName(name string) string {
	if name = cleanName(name, plop.MaxAttachmentName); name == "" {
		return "file"
	}
	return name
}

// imageName returns the name to keep for an uploaded image re-encoded to ext (".jpg" or
// ".png"): the cleaned client name with its extension replaced by ext; "image"+ext when
// nothing is left of the client's name.
func imageName(name, ext string) string {
	base := cleanName(name, plop.MaxAttachmentName)
	base = strings.TrimSuffix(base, path.Ext(base))
	if base = truncateName(strings.TrimSpace(base), plop.MaxAttachmentName-len(ext)); base == "" {
		base = "image"
	}
	return base + ext
}

// cleanName returns the last element of a client's file path (slashes and backslashes both
// separate) without control or format characters and invalid UTF-8, trimmed, at most limit
// bytes keeping the extension; "" when nothing is left.
func cleanName(name string, limit int) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." || name == "/" {
		return ""
	}
	return truncateName(name, limit)
}

// truncateName cuts name to at most limit bytes on a rune boundary, keeping a short
// extension when there is one.
func truncateName(name string, limit int) string {
	if len(name) <= limit {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > 16 || len(ext) == len(name) {
		ext = ""
	}
	stem := strings.TrimSuffix(name, ext)
	cut := limit - len(ext)
	for cut > 0 && !utf8.RuneStart(stem[cut]) {
		cut--
	}
	return stem[:cut] + ext
}

// declaredType returns the media type a file is kept and served with: the client's declared
// type, normalized (lower case, parameters re-quoted), or application/octet-stream when it
// declared none or something that is not a media type.
func declaredType(ct string) string {
	const fallback = "application/octet-stream"
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") || strings.HasPrefix(mt, "multipart/") {
		return fallback
	}
	out := mime.FormatMediaType(mt, params)
	if out == "" || len(out) > 255 {
		return fallback
	}
	return out
}
