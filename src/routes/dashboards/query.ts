import { eventQuery } from '../../events/query/schema';

/**
 * A widget's query: a §14 query, validated by the same schema as POST /v1/events/query (so its 422 paths read
 * `widgets.N.query.series.0.event`), and stored as parsed (defaults applied, the zone canonical) without the range
 * resolved at parse time: a `last` range keeps moving with time.
 */
export const WidgetQuery = eventQuery.transform(({ range: _range, ...query }) => query);
