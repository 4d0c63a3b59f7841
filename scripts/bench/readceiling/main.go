// readceiling is the ceiling the read paths are measured against
// (scripts/bench-read): the cheapest Gin server that does the same HTTP work
// as Outcry's service page, embed, status JSON and badge — it answers each
// with the very bytes Outcry answered (taken from a running Outcry by the
// script), already compressed where Outcry's was, from memory, with no
// middleware. It extends ../shared/bench/ceiling's approach to the reads.
//
//	ADDR=127.0.0.1:18090 BODIES=dir readceiling
//
// BODIES holds page.gz (the service page, gzip), embed.html, status.json
// and badge.svg.
package main

import (
	"log"
	"net/http"
	"os"
	"path/filepath"

	"github.com/gin-gonic/gin"
)

func main() {
	dir := os.Getenv("BODIES")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			log.Fatal(err)
		}
		return b
	}
	page, embed, status, badge := read("page.gz"), read("embed.html"), read("status.json"), read("badge.svg")
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/s/:slug", func(c *gin.Context) {
		c.Header("Content-Encoding", "gzip")
		c.Header("Cache-Control", "public, max-age=10")
		c.Data(http.StatusOK, "text/html; charset=utf-8", page)
	})
	r.GET("/embed/:slug", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=10")
		c.Data(http.StatusOK, "text/html; charset=utf-8", embed)
	})
	r.GET("/api/v1/services/:slug", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=10")
		c.Data(http.StatusOK, "application/json; charset=utf-8", status)
	})
	r.GET("/badge/:file", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=30")
		c.Data(http.StatusOK, "image/svg+xml", badge)
	})
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:18090"
	}
	log.Fatal(r.Run(addr))
}
