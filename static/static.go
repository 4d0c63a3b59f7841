// Package static holds Outcry's public pages, their assets and the
// embeddable widget, embedded into the binary: templates/*.html (parsed once
// by Templates) and assets/* (served under content-hashed names by Assets).
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"
)

// FS is every embedded file.
//
//go:embed templates/*.html assets/*
var FS embed.FS

// Asset is one file of assets/, with the versioned path it is served at.
type Asset struct {
	Name string // "app.js"
	Path string // "/static/app.1a2b3c4d5e.js": changes whenever Body does
	Body []byte
	Type string // Content-Type
	ETag string // quoted, from the content hash
}

// Assets are the embedded assets, by name and by versioned path.
type Assets struct {
	byName map[string]*Asset
	byPath map[string]*Asset
}

// LoadAssets reads and hashes every file of assets/.
func LoadAssets() (*Assets, error) {
	entries, err := fs.ReadDir(FS, "assets")
	if err != nil {
		return nil, err
	}
	a := &Assets{byName: map[string]*Asset{}, byPath: map[string]*Asset{}}
	for _, e := range entries {
		body, err := FS.ReadFile("assets/" + e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:5])
		ext := path.Ext(e.Name())
		typ := mime.TypeByExtension(ext)
		if typ == "" {
			typ = "application/octet-stream"
		}
		as := &Asset{
			Name: e.Name(), Path: "/static/" + strings.TrimSuffix(e.Name(), ext) + "." + hash + ext,
			Body: body, Type: typ, ETag: `"` + hash + `"`,
		}
		a.byName[as.Name] = as
		a.byPath[as.Path] = as
	}
	return a, nil
}

// Get returns the asset called name ("app.js").
func (a *Assets) Get(name string) (*Asset, bool) {
	as, ok := a.byName[name]
	return as, ok
}

// ByPath returns the asset served at p ("/static/app.1a2b3c4d5e.js").
func (a *Assets) ByPath(p string) (*Asset, bool) {
	as, ok := a.byPath[p]
	return as, ok
}

// URL is the versioned path of the asset called name; templates call it as
// {{asset "app.css"}}, so an unknown name fails the page (and its tests).
func (a *Assets) URL(name string) (string, error) {
	as, ok := a.byName[name]
	if !ok {
		return "", fs.ErrNotExist
	}
	return as.Path, nil
}

// Templates parses every page template once, with funcs (and "asset", the
// versioned path of an asset) available to them.
func Templates(assets *Assets, funcs template.FuncMap) (*template.Template, error) {
	all := template.FuncMap{"asset": assets.URL}
	for k, v := range funcs {
		all[k] = v
	}
	return template.New("pages").Funcs(all).ParseFS(FS, "templates/*.html")
}
