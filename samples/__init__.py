"""Sample data for the demo, the tests and the benchmarks: a story-rich Kaltim campaign, a
national week, and a throwaway local IMAP server. Not part of the pipeline; shipped so that
`pilkada demo` works from an installed wheel."""
