import type { ReactNode } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';

const axis = { fontSize: 11, stroke: 'currentColor' };

/** A minute's position on the x axis (HH:MM of its ISO time). */
const minuteLabel = (minute: string) => minute.slice(11, 16);

/** The frame the per-minute line charts share: minutes along the bottom, a grid, tooltip and legend. */
function MinuteLineChart({
  label,
  height = 'h-56',
  points,
  children,
}: {
  label: string;
  height?: string;
  points: object[];
  children: ReactNode;
}) {
  return (
    <div className={`${height} text-slate-500`} role="img" aria-label={label}>
      <ResponsiveContainer>
        <LineChart data={points}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.2} />
          <XAxis dataKey="time" tick={axis} />
          <Tooltip />
          <Legend />
          {children}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Requests and GPU seconds per minute. */
export function TrafficChart({
  data,
}: {
  data: { minute: string; requests: number; gpu_seconds: number }[];
}) {
  const points = data.map((point) => ({ ...point, time: minuteLabel(point.minute) }));
  return (
    <MinuteLineChart label="Requests and GPU seconds per minute" points={points}>
      <YAxis tick={axis} allowDecimals={false} />
      <Line type="monotone" dataKey="requests" name="Requests" stroke="#6366f1" dot={false} />
      <Line type="monotone" dataKey="gpu_seconds" name="GPU seconds" stroke="#10b981" dot={false} />
    </MinuteLineChart>
  );
}

/** End-to-end latency per minute as callers saw it (queue wait included); gaps where nothing ran. */
export function LatencyChart({
  data,
}: {
  data: { minute: string; latency_p50_ms: number | null; latency_p99_ms: number | null }[];
}) {
  const points = data.map((point) => ({ ...point, time: minuteLabel(point.minute) }));
  return (
    <MinuteLineChart label="Latency p50 and p99 per minute, in milliseconds" height="h-48" points={points}>
      <YAxis tick={axis} unit=" ms" width={64} />
      <Line type="monotone" dataKey="latency_p50_ms" name="p50 latency" stroke="#8b5cf6" dot={{ r: 2 }} />
      <Line type="monotone" dataKey="latency_p99_ms" name="p99 latency" stroke="#f43f5e" dot={{ r: 2 }} />
    </MinuteLineChart>
  );
}

/** Replicas up (average over each minute) and how busy they were. */
export function UptimeChart({
  data,
}: {
  data: { minute: string; replica_seconds: number; utilisation: number | null }[];
}) {
  const points = data.map((point) => ({
    time: minuteLabel(point.minute),
    replicas: Math.round((point.replica_seconds / 60) * 100) / 100,
    utilisation: point.utilisation === null ? null : Math.round(point.utilisation * 100),
  }));
  return (
    <MinuteLineChart label="Replicas up and GPU utilisation per minute" points={points}>
      <YAxis yAxisId="replicas" tick={axis} allowDecimals={false} />
      <YAxis yAxisId="percent" orientation="right" domain={[0, 100]} tick={axis} unit="%" />
      <Line
        yAxisId="replicas"
        type="stepAfter"
        dataKey="replicas"
        name="Replicas up"
        stroke="#0ea5e9"
        dot={false}
      />
      <Line
        yAxisId="percent"
        type="monotone"
        dataKey="utilisation"
        name="GPU utilisation %"
        stroke="#f59e0b"
        dot={false}
        connectNulls={false}
      />
    </MinuteLineChart>
  );
}

/** Spend per day, stacked by service. */
export function SpendChart({ data }: { data: { date: string; by_service: Record<string, number> }[] }) {
  const points = data.map((day) => ({ date: day.date.slice(5), ...day.by_service }));
  return (
    <div className="h-56 text-slate-500" role="img" aria-label="Spend per day by service">
      <ResponsiveContainer>
        <BarChart data={points}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.2} />
          <XAxis dataKey="date" tick={axis} />
          <YAxis tick={axis} />
          <Tooltip formatter={(value) => `$${Number(value).toFixed(2)}`} />
          <Legend />
          <Bar dataKey="model_deployments" name="Model deployments" stackId="spend" fill="#6366f1" />
          <Bar dataKey="custom_pods" name="Custom pods" stackId="spend" fill="#f59e0b" />
          <Bar dataKey="storage" name="Storage" stackId="spend" fill="#10b981" />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
