package ir

import "net/netip"

// Block refuses, with 403, every request of a listener whose client
// address is in Addresses, or whose User-Agent or Referer matches one of
// UserAgents or Referers. It is checked before any route's policy.
type Block struct {
	Addresses  []netip.Prefix `json:"addresses,omitempty"`
	UserAgents []StringMatch  `json:"userAgents,omitempty"`
	Referers   []StringMatch  `json:"referers,omitempty"`
}

// Empty says whether the block refuses nothing.
func (b *Block) Empty() bool {
	return b == nil || len(b.Addresses) == 0 && len(b.UserAgents) == 0 && len(b.Referers) == 0
}
