; Comments in Rust source, for Concord: every `@comment` capture is one comment.
; Doc comments (`///`, `//!`, `/** */`, `/*! */`) are line or block comments too.
; Captures: @comment (one comment or docstring); @_anything helpers are ignored; any other
; name is an error.

(line_comment) @comment
(block_comment) @comment
