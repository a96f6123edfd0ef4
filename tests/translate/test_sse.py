import json

import pytest

from freeclaude.translate import sse


def test_decoder_handles_split_lines_comments_and_crlf():
    d = sse.Decoder()
    stream = b': OPENROUTER PROCESSING\r\n\r\ndata: {"a":1}\r\n\r\nevent: ping\ndata: x\ndata: y\n\ndata: [DONE]\n\n'
    out = []
    for i in range(0, len(stream), 3):
        out += d.feed(stream[i:i + 3])
    assert out == [("", '{"a":1}'), ("ping", "x\ny"), ("", "[DONE]")]


def test_decoder_multibyte_split():
    d = sse.Decoder()
    data = 'data: {"t":"☃"}\n\n'.encode()
    assert d.feed(data[:10]) == [] and d.feed(data[10:]) == [("", '{"t":"☃"}')]


def test_decoder_flush_last_event_without_blank_line():
    d = sse.Decoder()
    assert d.feed(b"data: tail") == []
    assert d.flush() == [("", "tail")]


def test_encode():
    assert sse.encode("ping", {"type": "ping"}) == b'event: ping\ndata: {"type":"ping"}\n\n'


@pytest.mark.parametrize("text", ["plain", "", 'quo"te \\ back', "tab\tnew\nline\x00\x1f", "☃ ünï 𝄞", "\ud800 lone", "</script>"])
def test_text_deltas_from_the_template_are_what_the_encoder_writes(text):
    data = {"type": "content_block_delta", "index": 7, "delta": {"type": "text_delta", "text": text}}
    assert sse.encode("content_block_delta", data) == f"event: content_block_delta\ndata: {sse.dumps(data)}\n\n".encode(
        "utf-8", "replace")


def test_other_events_are_encoded_whole():
    data = {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": '{"a'}}
    assert sse.encode_all([("content_block_delta", data)]) == b'event: content_block_delta\ndata: ' + json.dumps(
        data, separators=(",", ":")).encode() + b"\n\n"
