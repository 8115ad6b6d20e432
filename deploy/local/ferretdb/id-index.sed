# FerretDB v1.24.2's SQLite backend creates the _id index on  _ferretdb_sjson->"_id"  but looks
# _id up with  _ferretdb_sjson->'$._id' : the same value, yet SQLite only uses an expression index
# for the same expression, so every _id lookup scanned the whole collection (EXPLAIN QUERY PLAN:
# SCAN). infra.sh builds FerretDB with this one line changed, so lookups,
# updates and deletes by _id use the index (SEARCH ... USING INDEX).
s|IDColumn = DefaultColumn + "->'\$\._id'"|IDColumn = DefaultColumn + "->\\"_id\\""|
