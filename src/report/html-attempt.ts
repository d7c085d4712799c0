import type {
  Attempt,
  DownstreamEvent,
  HeaderList,
  ProbeEvent,
  PublishEvent,
} from '../history/events.js';
import { joinHtml, markup, type SafeHtml } from './html-escape.js';
import { count, ms } from './html-format.js';
import { laneSwatch, type LanePalette } from './html-lanes.js';
import { capBytes, clip } from './printable.js';

/**
 * One attempt as a request and its response side by side: method, URL, headers and body, then
 * status, headers and body, or the error and what it means (fail: certainly not processed;
 * info: outcome unknown). Bodies are cut at 4 KiB with a "(n more bytes)" note.
 */

const MAX_HEADERS = 64;
const MAX_HEADER_VALUE = 1024;

function headersBlock(headers: HeaderList): SafeHtml {
  if (headers.length === 0) return markup`<p class="note">no headers</p>`;
  const shown = headers.slice(0, MAX_HEADERS);
  const lines = shown.map(
    ([name, value]) =>
      markup`<span class="hname">${name}</span>: ${clip(value, MAX_HEADER_VALUE)}\n`,
  );
  const more =
    headers.length > shown.length
      ? markup`<span class="note">(${headers.length - shown.length} more headers)</span>`
      : null;
  return markup`<pre class="headers">${lines}${more}</pre>`;
}

/** A body, capped at 4 KiB; `totalBytes` is the whole body's size when the text was cut earlier. */
export function bodyBlock(body: string | null, totalBytes?: number): SafeHtml {
  if (body === null) return markup`<p class="note">no body</p>`;
  if (body === '' && (totalBytes ?? 0) === 0) return markup`<p class="note">empty body</p>`;
  const capped = capBytes(body, undefined, totalBytes);
  const more =
    capped.moreBytes > 0
      ? markup`<span class="more">(${count(capped.moreBytes)} more bytes)</span>`
      : null;
  return markup`<pre class="body">${capped.text}</pre>
    ${more}`;
}

function requestPane(attempt: Attempt): SafeHtml {
  const request = attempt.invoke.request;
  const target =
    request.targetUrl !== request.url
      ? markup`<p class="note">target: <code>${request.targetUrl}</code></p>`
      : null;
  const binary =
    request.bodyEncoding === 'base64'
      ? markup`<p class="note">The body is binary: shown in base64.</p>`
      : null;
  const cut =
    request.bodyTruncated === true
      ? markup`<p class="note">The body went out whole (${count(request.bodyBytes ?? 0)} bytes, SHA-256 <code>${request.bodySha256 ?? ''}</code>); the history keeps its start.</p>`
      : null;
  return markup`<div class="pane">
    <h5>Request</h5>
    <p class="reqline"><code>${request.method} ${request.url}</code></p>
    ${target}${headersBlock(request.headers)}${binary}${bodyBlock(request.body, request.bodyBytes)}${cut}
  </div>`;
}

function responsePane(attempt: Attempt): SafeHtml {
  const completion = attempt.completion;
  if (completion === undefined) {
    return markup`<div class="pane">
      <h5>No completion</h5>
      <p class="note">
        No completion was recorded: the run ended while this attempt was in flight.
      </p>
    </div>`;
  }
  if (completion.type === 'ok') {
    const response = completion.response;
    const cut = response.bodyTruncated
      ? markup`<p class="note">
          Recorded body cut at ${count(Buffer.byteLength(response.body, 'utf8'))} bytes; the whole
          body had ${count(response.bodyBytes)} bytes.
        </p>`
      : null;
    return markup`<div class="pane">
      <h5>
        Response
        <span class="status s${Math.floor(response.status / 100)}">${response.status}</span> after
        ${ms(completion.durationMs)}
        <span class="note">(ok #${completion.index} at ${ms(completion.time)})</span>
      </h5>
      ${headersBlock(response.headers)}${bodyBlock(response.body, response.bodyBytes)}${cut}
      <p class="note">body SHA-256 <code>${response.bodySha256}</code></p>
    </div>`;
  }
  const meaning =
    completion.type === 'fail'
      ? 'Not sent: the request certainly did not reach the handler.'
      : 'Outcome unknown: the request may or may not have been processed.';
  return markup`<div class="pane">
    <h5>
      ${completion.type === 'fail' ? 'Failed ✕' : 'Unknown ?'} after ${ms(completion.durationMs)}
      <span class="note">(${completion.type} #${completion.index} at ${ms(completion.time)})</span>
    </h5>
    <p>${meaning}</p>
    <pre class="error">${completion.error.code}: ${completion.error.message}</pre>
  </div>`;
}

export function renderAttempt(
  attempt: Attempt,
  palette: LanePalette,
  highlighted: boolean,
): SafeHtml {
  const invoke = attempt.invoke;
  const facts = [
    invoke.label,
    invoke.pattern,
    invoke.tenant === null ? null : `tenant ${invoke.tenant}`,
    invoke.keySent ? null : 'key not sent',
    invoke.variant === 'different' ? 'different payload' : null,
    invoke.group === null ? null : `group ${invoke.group}`,
    `invoke #${invoke.index} at ${ms(invoke.time)}`,
    `timeout ${ms(invoke.timeoutMs)}`,
  ].filter((fact) => fact !== null);
  return markup`<div class="attempt${highlighted ? ' involved' : ''}">
    <p class="attempt-head">
      ${laneSwatch(palette, invoke.lane)} · <strong>${invoke.op}</strong> · ${facts.join(' · ')}
    </p>
    <div class="pair">${requestPane(attempt)}${responsePane(attempt)}</div>
  </div>`;
}

/** One call the target made to the programmed downstream: its answer and forwarded key. */
export function renderDownstreamCall(call: DownstreamEvent): SafeHtml {
  const header = call.forwardedHeader ?? 'forwarded key';
  const forwarded =
    call.forwardedKey === null
      ? markup`<span class="bad">no ${header}</span>`
      : markup`${header} <code>${call.forwardedKey}</code>`;
  return markup`<li>
    downstream call #${call.index} at ${ms(call.time)}: call ${call.call} for <code>${call.token}</code>,
    ${forwarded}: answered ${call.answer}, ${call.processed ? 'processed' : 'not processed'}
  </li>`;
}

/** One message published to a consumer's broker: what, where it went, what the broker said. */
export function renderPublish(event: PublishEvent): SafeHtml {
  const outcome = event.ok
    ? markup`confirmed: ${event.detail}`
    : markup`<span class="bad">not confirmed: ${event.detail}</span>`;
  const headers = event.headers.map(([name, value]) => `${name}: ${value}`).join(', ');
  return markup`<li>
    message #${event.index} at ${ms(event.time)}: ${event.label}${event.poison === true ? ' (poison)' : ''},
    id <code>${event.key}</code> to ${event.destination}; ${outcome} in ${ms(event.durationMs)}
    ${headers === '' ? '' : markup`<br>headers <code>${clip(headers, 2000)}</code>`}
    <br>body <code>${clip(event.body, 2000)}</code>
  </li>`;
}

export function renderProbe(probe: ProbeEvent): SafeHtml {
  const reading = probe.reading;
  const value = !reading.ok
    ? markup`<span class="bad">failed: ${reading.error}</span>`
    : 'count' in reading
      ? markup`count <strong>${reading.count}</strong>`
      : markup`state <code>${clip(JSON.stringify(reading.state) ?? 'undefined', 2000)}</code>`;
  // Keys, markers and resources as code, which may wrap anywhere (a long key has no spaces).
  const subject = [
    probe.key === null ? null : markup`key <code>${probe.key}</code>`,
    probe.tenant === null ? null : markup`tenant ${probe.tenant}`,
    probe.marker === null ? null : markup`marker <code>${probe.marker}</code>`,
    probe.resource === null ? null : markup`resource <code>${probe.resource}</code>`,
  ].filter((part) => part !== null);
  return markup`<li>
    probe #${probe.index} at ${ms(probe.time)}: ${probe.probe} via ${probe.source},
    ${probe.label}${subject.length > 0 ? markup` (${joinHtml(subject, markup`, `)})` : ''}: ${value}
  </li>`;
}
