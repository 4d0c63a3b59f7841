package handlers

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// Query parameters have one rule across the API: a value that is present but
// unusable is a 422 ("invalid") that names the parameter and what it must be,
// like a bad field of a body; an absent or empty one takes the default.

// queryInt reads the whole number ?name= from lo to hi, def when absent.
func queryInt(c *gin.Context, name string, def, lo, hi int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return def, models.Errorf(models.CodeInvalid, "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// queryID reads the positive id ?name= (ids are positive int64s in the
// database), 0 when absent; what says what the id names, for the error.
func queryID(c *gin.Context, name, what string) (uint64, error) {
	s := c.Query(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil || n == 0 {
		return 0, models.Errorf(models.CodeInvalid, "%s must be %s (a positive whole number)", name, what)
	}
	return n, nil
}
