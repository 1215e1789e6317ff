"""SIP simulator (pjsua2): citizens calling 112 through a carrier trunk, and call-taker softphones (seats).

Each simulator is its own process (``python -m padang112.simulator.engine``) driven by ``client.Simulator``.
Protocol, JSON lines: commands on stdin, each with an int ``req`` and exactly one reply
``{"req": N, "ok": true, ...}`` or ``{"req": N, "ok": false, "error": "..."}``; events (no ``req``) on stdout.

Commands (optional fields in brackets; a Delay is seconds, ``[low, high]`` drawn per call, or null = never):
  seat        seat, [password], [registrar "host:port" | null = no registration], [listen "host:port",
              default 127.0.0.1:0], [answer_after Delay=0.3], [hangup_after Delay=null], [tone_hz=1000],
              [record_dir], [expires=120], [reject_with=null]  -> {seat, address, [expires]} once registered
              (error: SIP status, or after 10 s). Records to <record_dir>/<seat>-<n>.wav. Busy seat: a 2nd call
              gets 486; reject_with=486/603/488...: a misbehaving phone that answers every call so.
  seat_update seat, any of answer_after / hangup_after / tone_hz / record_dir / reject_with (a ringing call is
              re-timed)
  seat_answer seat                  -> {answered}: answer the ringing call now
  seat_hangup seat, [code]          -> {active}: false if there was no call
  unregister  seat                  -> after the un-REGISTER completes; the account is deleted
  call        call, target, [bind=127.0.0.1], [caller], [caller_name], [tone_hz=440], [record], [hangup_after
              Delay, counted from CONFIRMED], [headers {name: value}]  -> {call, call_id, t} once the INVITE is
              sent from ``bind`` (From: "caller_name" <sip:caller@bind>)
  hangup      call, [code]          -> {active}
  dtmf        call, digits (RFC 4733)
  status, ping, quit                (quit: hang up, unregister, finish recordings, reply, exit 0)

Events: ready{pid}; registered{seat, expires}; unregistered{seat, code, reason};
  seat_ringing{seat, t, n, remote, call_id, source, headers (X-*)}; seat_media{seat, t};
  seat_answered{seat, t, n}; seat_call_ended{seat, t, n, code, reason, recording};
  seat_busy{seat, call_id, code} (busy, or refused: a seat made with reject_with, e.g. 486);
  call_state{call, state CALLING|EARLY|CONNECTING|CONFIRMED|DISCONNECTED, t, code, reason, [recording]};
  call_media{call, t}; dtmf{seat|call, digit, t}; error{error, t}.  "t" is wall-clock ``time.time()``.
  A DISCONNECTED / seat_call_ended event is sent once its WAV file is complete.

Per process (this pjsua2 wheel): 8 accounts, 4 concurrent calls, 8 SIP transports; see ``resources.py``.
"""
