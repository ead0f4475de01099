import * as generated from './generated/proto';
import * as entry from './index';

describe('@mqim/protocol entry', () => {
  it('entry - exports every top-level namespace of the generated code', () => {
    const namespaces = Object.keys(generated).filter((k) => k !== 'default' && k !== '__esModule');
    expect(namespaces.length).toBeGreaterThan(0);
    for (const ns of namespaces) {
      expect({ ns, exported: (entry as Record<string, unknown>)[ns] }).toEqual({
        ns,
        exported: (generated as Record<string, unknown>)[ns],
      });
    }
  });
});
