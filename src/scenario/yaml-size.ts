import { isAlias, isMap, isNode, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import { SCENARIO_LIMITS } from './limits.js';

/** Where a YAML document grows past a limit once its aliases are expanded. */
export interface ExpansionProblem {
  /** The node at which the limit was crossed (an alias, usually). */
  readonly node: Node;
  readonly message: string;
}

interface Extent {
  /** Bytes of JSON the node becomes (strings counted by their length plus quotes). */
  readonly bytes: number;
  /** Levels of objects and arrays, the node included. */
  readonly depth: number;
}

/**
 * The first place where the document, with every alias expanded, would be larger than
 * SCENARIO_LIMITS.documentBytes or deeper than SCENARIO_LIMITS.depth. Computed on the syntax
 * tree without expanding anything: an anchored node's extent is computed once and reused by
 * each alias, so the pass is linear in the file, whatever the aliases expand to.
 *
 * The caller has checked the document's structure first: every alias names an anchor before it,
 * and none is inside the value it names (so the reuse below never meets a cycle).
 */
export function expansionProblem(document: Document): ExpansionProblem | undefined {
  const { documentBytes, depth: maxDepth } = SCENARIO_LIMITS;
  const anchors = new Map<string, Extent>();
  /** Bytes of the expanded document so far, in document order. */
  let total = 0;
  let problem: ExpansionProblem | undefined;

  /** Adds what `node` itself contributes; false (and the problem) once past the limit. */
  const grow = (node: Node, bytes: number): boolean => {
    total += bytes;
    if (total <= documentBytes) return true;
    problem = {
      node,
      message: isAlias(node)
        ? `aliases expand the document to more than ${documentBytes / 1e6} MB; write the values out instead`
        : `the document is more than ${documentBytes / 1e6} MB once its aliases are expanded`,
    };
    return false;
  };

  const measure = (node: unknown, depth: number): Extent => {
    const stop: Extent = { bytes: Infinity, depth: Infinity };
    if (problem !== undefined || !isNode(node)) return { bytes: 4, depth: 0 };
    let extent: Extent;
    if (isAlias(node)) {
      extent = anchors.get(node.source) ?? { bytes: 4, depth: 0 };
      if (depth + extent.depth > maxDepth) {
        problem = {
          node,
          message: `aliases nest the document more than ${maxDepth} levels deep; write the values out instead`,
        };
        return stop;
      }
      if (!grow(node, extent.bytes)) return stop;
      return extent;
    }
    if (isScalar(node)) {
      const value: unknown = node.value;
      const bytes = typeof value === 'string' ? value.length + 2 : String(value).length;
      extent = { bytes, depth: 0 };
      if (!grow(node, bytes)) return stop;
    } else if (isMap(node) || isSeq(node)) {
      if (depth >= maxDepth) {
        problem = { node, message: `nested more than ${maxDepth} levels deep` };
        return stop;
      }
      let bytes = 2;
      let deepest = 0;
      if (!grow(node, 2)) return stop;
      for (const item of node.items as unknown[]) {
        for (const part of isPair(item) ? [item.key, item.value] : [item]) {
          if (!grow(node, 1)) return stop;
          const inner = measure(part, depth + 1);
          if (problem !== undefined) return stop;
          bytes += inner.bytes + 1;
          deepest = Math.max(deepest, inner.depth);
        }
      }
      extent = { bytes, depth: deepest + 1 };
    } else {
      extent = { bytes: 4, depth: 0 };
    }
    if (node.anchor !== undefined) anchors.set(node.anchor, extent);
    return extent;
  };

  measure(document.contents, 0);
  return problem;
}
