-- 政策参数：one row per row of ZCXX (same _BATCH, _ROW): each city has one row per year.
WITH n AS (
    SELECT _BATCH, CSDM, ND, count(*) AS rows_n FROM ZCXX WHERE CSDM IS NOT NULL AND ND IS NOT NULL GROUP BY ALL
)
SELECT z._BATCH, z._ROW, z.CSDM, z.ND,
    CASE WHEN z.CSDM IS NULL OR z.ND IS NULL THEN NULL WHEN n.rows_n > 1 THEN '1' ELSE '0' END AS CITY_YEAR_REPEATED
FROM ZCXX z LEFT JOIN n ON n._BATCH = z._BATCH AND n.CSDM = z.CSDM AND n.ND = z.ND
