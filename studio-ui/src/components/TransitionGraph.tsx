import { useCallback, useEffect, useMemo, useState } from "react";
import {
  ReactFlow, Background, Controls, MarkerType,
  type Connection, type Edge, type EdgeChange, type Node, type NodeChange, applyNodeChanges,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { agentColour } from "../colours";

// The group chat's speaker transitions as a graph: drag from an agent's lower handle to another
// agent's upper handle to add "may speak after"; select an edge and press Delete to remove it.

export type Transitions = Record<string, string[]>;

function layout(names: string[]): Record<string, { x: number; y: number }> {
  const r = Math.max(120, names.length * 34);
  const out: Record<string, { x: number; y: number }> = {};
  names.forEach((name, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, names.length) - Math.PI / 2;
    out[name] = { x: r + r * Math.cos(a), y: r + r * Math.sin(a) };
  });
  return out;
}

export function TransitionGraph({ agents, transitions, onChange }: { agents: string[]; transitions: Transitions | null; onChange: (t: Transitions) => void }) {
  const [positions, setPositions] = useState(() => layout(agents));
  useEffect(() => {
    setPositions((old) => {
      const fresh = layout(agents);
      const next: typeof old = {};
      for (const a of agents) next[a] = old[a] ?? fresh[a];
      return next;
    });
  }, [agents]);

  const nodes: Node[] = useMemo(
    () => agents.map((name) => ({
      id: name,
      data: { label: name },
      position: positions[name] ?? { x: 0, y: 0 },
      style: { borderColor: agentColour(name), borderWidth: 2 },
      ariaLabel: `agent ${name}`,
    })),
    [agents, positions],
  );
  const edges: Edge[] = useMemo(() => {
    const list: Edge[] = [];
    for (const [from, tos] of Object.entries(transitions ?? {}))
      for (const to of tos)
        list.push({ id: `${from}->${to}`, source: from, target: to, markerEnd: { type: MarkerType.ArrowClosed }, ariaLabel: `${from} to ${to}` });
    return list;
  }, [transitions]);

  const onNodesChange = useCallback((changes: NodeChange[]) => {
    setPositions((old) => {
      const moved = applyNodeChanges(changes, agents.map((a) => ({ id: a, position: old[a] ?? { x: 0, y: 0 }, data: {} })));
      return Object.fromEntries(moved.map((n) => [n.id, n.position]));
    });
  }, [agents]);

  const onConnect = useCallback((c: Connection) => {
    if (!c.source || !c.target) return;
    const next = { ...(transitions ?? {}) };
    const list = next[c.source] ?? [];
    if (!list.includes(c.target)) next[c.source] = [...list, c.target];
    onChange(next);
  }, [transitions, onChange]);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    const removed = changes.filter((c) => c.type === "remove").map((c) => c.id);
    if (removed.length === 0) return;
    const next: Transitions = {};
    for (const [from, tos] of Object.entries(transitions ?? {}))
      next[from] = tos.filter((to) => !removed.includes(`${from}->${to}`));
    onChange(next);
  }, [transitions, onChange]);

  return (
    <div className="graph" data-testid="transition-graph">
      <ReactFlow nodes={nodes} edges={edges} onNodesChange={onNodesChange} onEdgesChange={onEdgesChange}
        onConnect={onConnect} fitView deleteKeyCode={["Backspace", "Delete"]} proOptions={{ hideAttribution: true }}>
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
