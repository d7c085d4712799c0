import type { ProbeReading, RecordedRequest, RecordedResponse } from './events.js';
import type { NewEvent } from './recorder.js';

/** The nested parts of an event that carry what the target sent or answered. */
export interface EventParts {
  request: RecordedRequest;
  response: RecordedResponse;
  error: { code: string; message: string };
  reading: ProbeReading;
}

/** How to transform each part; parts without a function are left as they are. */
export type PartMappers = {
  readonly [K in keyof EventParts]?: (part: EventParts[K]) => EventParts[K];
};

/**
 * The transformed parts of `event`, to spread over a copy of it (the recorder redacts and
 * interns events this way, one part at a time).
 */
export function mapEventParts(event: NewEvent, map: PartMappers): Partial<EventParts> {
  switch (event.type) {
    case 'invoke':
      return map.request === undefined ? {} : { request: map.request(event.request) };
    case 'ok':
      return map.response === undefined ? {} : { response: map.response(event.response) };
    case 'fail':
    case 'info':
      return map.error === undefined ? {} : { error: map.error(event.error) };
    case 'probe':
      return map.reading === undefined ? {} : { reading: map.reading(event.reading) };
    case 'hook':
      return {
        ...(map.request === undefined ? {} : { request: map.request(event.request) }),
        ...(map.response === undefined || event.response === undefined
          ? {}
          : { response: map.response(event.response) }),
        ...(map.error === undefined || event.error === undefined
          ? {}
          : { error: map.error(event.error) }),
      };
    default:
      return {};
  }
}
